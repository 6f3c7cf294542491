"""Analytics (docs/analytics.md): the daily counters kept as views happen, the per-video,
creator and admin reports, their span rules and who may read them, and that each read is a
bounded number of index-served queries, whatever the number of events. Both backends."""

import functools
from datetime import UTC, date, datetime, timedelta

import pytest
from pymongo import MongoClient

from models import daily_stats, db
from models import video as videos
from models.common import object_id
from services import analytics, playback
from tests.support.accounts import Accounts, Library
from tests.support.counters import flush_counters
from tests.support.errors import assert_error
from tests.support.query_indexes import Query, QueryRecorder, indexes_of, unserved

TODAY = datetime.now(UTC).date()


@pytest.fixture
def video(library, media):
    return library.ready_video(media["h264"], title="Counted clip")


def play(client, library, video_id, bundle):
    """One playback session that plays: a new playback token and a media request."""
    token = library.playback_token(video_id, bundle)
    response = client.get(
        f"/video/{video_id}/media", query_string={"token": token}, headers={"Range": "bytes=0-1"}
    )
    assert response.status_code == 206


def report(client, path, bundle, **query):
    return client.get(
        path, query_string=query, headers={"Authorization": f"Bearer {bundle['token']}"}
    )


def test_views_through_the_media_route_are_counted_exactly(client, library, accounts, video):
    first, second = accounts.user_with_token(), accounts.user_with_token()
    play(client, library, video["id"], first)
    play(client, library, video["id"], first)  # within 30 minutes: not a new view
    play(client, library, video["id"], second)

    body = report(client, f"/video/{video['id']}/analytics", library.owner).json
    assert body["totals"] == {
        "views": 2,
        "unique_viewers": 2,
        "likes": 0,
        "dislikes": 0,
        "watch_seconds": 0,
        "completion_rate": 0.0,
    }
    assert body["daily"][-1] == {
        "date": TODAY.isoformat(),
        "views": 2,
        "unique_viewers": 2,
        "watch_seconds": 0,
    }
    assert body["to"] == TODAY.isoformat()
    creator = report(client, "/analytics/creator", library.owner).json
    assert creator["totals"]["views"] == 2
    assert creator["top_videos"] == [
        {"video_id": video["id"], "title": "Counted clip", "views": 2, "watch_seconds": 0}
    ]
    admin = report(client, "/analytics/admin", accounts.user_with_token("admin")).json
    assert admin["daily"][-1]["views"] == 2


def test_a_user_is_one_unique_viewer_a_day_however_many_views(
    client, library, accounts, video, monkeypatch
):
    viewer = accounts.user_with_token()
    play(client, library, video["id"], viewer)
    # Past the 30-minute window: a second view by the same user, the same day.
    monkeypatch.setattr(playback, "VIEW_WINDOW", timedelta(0))
    play(client, library, video["id"], viewer)
    body = report(client, f"/video/{video['id']}/analytics", library.owner).json
    assert body["totals"]["views"] == 2
    assert body["totals"]["unique_viewers"] == 1
    assert body["daily"][-1]["unique_viewers"] == 1


def test_every_day_of_the_span_is_present_with_zeros(client, library, app, video):
    owner = object_id(library.owner["user"]["id"])
    with app.app_context():
        moment = datetime(2025, 3, 2, 12, tzinfo=UTC)
        daily_stats.add(object_id(video["id"]), owner, moment, views=3, watch_seconds=40)
        daily_stats.add(object_id(video["id"]), owner, moment, completions=1)
        # Outside the span, in the months it touches (the reports read whole months).
        for outside in (datetime(2025, 2, 10, tzinfo=UTC), datetime(2025, 3, 20, tzinfo=UTC)):
            daily_stats.add(object_id(video["id"]), owner, outside, views=7, completions=7)
    body = report(
        client,
        f"/video/{video['id']}/analytics",
        library.owner,
        **{"from": "2025-02-27", "to": "2025-03-04"},
    ).json
    assert [row["date"] for row in body["daily"]] == [
        "2025-02-27",
        "2025-02-28",
        "2025-03-01",
        "2025-03-02",
        "2025-03-03",
        "2025-03-04",
    ]
    assert [row["views"] for row in body["daily"]] == [0, 0, 0, 3, 0, 0]
    assert (body["totals"]["views"], body["totals"]["watch_seconds"]) == (3, 40)
    assert body["totals"]["completion_rate"] == pytest.approx(1 / 3, abs=1e-4)
    span = {"from": "2025-02-27", "to": "2025-03-04"}
    assert report(client, "/analytics/creator", library.owner, **span).json["totals"]["views"] == 3
    default = report(client, f"/video/{video['id']}/analytics", library.owner).json
    assert len(default["daily"]) == 30
    assert default["from"] == (TODAY - timedelta(days=29)).isoformat()


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"from": "2025-03-05", "to": "2025-03-04"}, "invalid_date_range"),
        ({"from": "2024-01-01", "to": "2025-01-01"}, "span_too_long"),
        ({"from": "2025-3-5"}, None),
        ({"to": "yesterday"}, None),
        ({"from": "2025-02-30"}, None),
        ({"since": "2025-01-01"}, None),
    ],
)
def test_bad_spans_are_400(client, library, accounts, video, query, code):
    admin = accounts.user_with_token("admin")
    for path, bundle in (
        (f"/video/{video['id']}/analytics", library.owner),
        ("/analytics/creator", library.owner),
        ("/analytics/admin", admin),
    ):
        assert_error(report(client, path, bundle, **query), 400, code)


def test_366_days_is_the_longest_span(client, library, video):
    body = report(
        client,
        f"/video/{video['id']}/analytics",
        library.owner,
        **{"from": "2024-01-01", "to": "2024-12-31"},
    ).json
    assert len(body["daily"]) == 366


def test_who_may_read_a_videos_analytics(client, library, accounts, video, media):
    path = f"/video/{video['id']}/analytics"
    assert_error(report(client, path, accounts.user_with_token()), 403, "not_owner")
    assert_error(report(client, path, accounts.user_with_token("creator")), 403, "not_owner")
    assert report(client, path, accounts.user_with_token("admin")).status_code == 200
    hidden = library.ready_video(media["h264"], visibility="private")
    assert_error(
        report(client, f"/video/{hidden['id']}/analytics", accounts.user_with_token()), 404
    )
    assert_error(report(client, "/video/" + "0" * 24 + "/analytics", library.owner), 404)
    assert client.get(path).status_code == 401


def test_creator_and_admin_reports_need_their_roles(client, accounts):
    viewer = accounts.user_with_token()
    assert_error(report(client, "/analytics/creator", viewer), 403, "insufficient_role")
    creator = accounts.user_with_token("creator")
    assert_error(report(client, "/analytics/admin", creator), 403, "insufficient_role")


def test_creator_report_sums_only_the_callers_videos(client, library, accounts, app, media):
    mine = [library.ready_video(media["h264"], title=f"Mine {n}") for n in range(12)]
    other = second_creators_video(app, client, accounts, media["h264"], title="Theirs")
    owner = object_id(library.owner["user"]["id"])
    moment = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC)
    with app.app_context():
        for rank, video in enumerate(mine):
            viewed(video["id"], owner, moment, rank + 1, watch_seconds=5)
        viewed(other["id"], object_id(other["owner"]), moment, 99)
        db.get_db().videos.update_one(
            {"_id": object_id(mine[0]["id"])}, {"$set": {"likes": 4, "dislikes": 1}}
        )
    body = report(client, "/analytics/creator", library.owner).json
    assert body["totals"]["views"] == sum(range(1, 13))
    assert body["totals"]["watch_seconds"] == 60
    assert (body["totals"]["likes"], body["totals"]["dislikes"]) == (4, 1)
    assert [row["views"] for row in body["top_videos"]] == list(range(12, 2, -1))
    assert body["top_videos"][0] == {
        "video_id": mine[11]["id"],
        "title": "Mine 11",
        "views": 12,
        "watch_seconds": 5,
    }
    assert len(body["daily"]) == 30


def viewed(video_id, owner, moment, views, watch_seconds=0):
    """``views`` views of the video at ``moment`` (the video's count and its day's, as the
    media route leaves them) and ``watch_seconds`` of progress the same day."""
    for _ in range(views):
        videos.add_view(object_id(video_id))
    daily_stats.add(object_id(video_id), owner, moment, views=views)
    if watch_seconds:
        daily_stats.add(object_id(video_id), owner, moment, watch_seconds=watch_seconds)


def test_top_videos_are_of_all_time_and_still_there(client, library, app, media):
    """The top list ranks by all-time views (not the span's) and leaves out deleted videos."""
    old, recent, deleted = (library.ready_video(media["h264"], title=t) for t in "ORD")
    owner = object_id(library.owner["user"]["id"])
    long_ago = datetime(2020, 6, 1, tzinfo=UTC)
    with app.app_context():
        viewed(old["id"], owner, long_ago, 5, watch_seconds=30)
        viewed(recent["id"], owner, datetime.now(UTC), 2)
        viewed(deleted["id"], owner, datetime.now(UTC), 9)
        videos.soft_delete(object_id(deleted["id"]))
    body = report(client, "/analytics/creator", library.owner).json
    assert body["totals"]["views"] == 11  # the span: recent and deleted, not 2020's
    assert [(row["title"], row["views"], row["watch_seconds"]) for row in body["top_videos"]] == [
        ("O", 5, 30),
        ("R", 2, 0),
    ]


def second_creators_video(app, client, accounts, path, **fields):
    """A ready video of another creator, with its ``owner`` id."""
    other = Library(app, client, accounts)
    return {**other.ready_video(path, **fields), "owner": other.owner["user"]["id"]}


def test_admin_report_shape(client, accounts, library, video, app):
    accounts.user_with_token()
    body = report(client, "/analytics/admin", accounts.user_with_token("admin")).json
    assert set(body) == {
        "from",
        "to",
        "users_by_role",
        "videos_by_status",
        "stored_bytes",
        "daily",
        "revenue",
    }
    assert body["users_by_role"]["viewer"] >= 1 and body["users_by_role"]["admin"] == 1
    assert body["videos_by_status"] == {"ready": 1}
    with app.app_context():
        thumbnail = db.get_db().fs.files.find_one({"_id": video["thumbnail_file_id"]})
    assert body["stored_bytes"] == len(video["bytes"]) + thumbnail["length"]
    assert len(body["daily"]) == 30
    assert body["daily"][-1]["signups"] == 3  # the admin (at start-up), the owner, the viewer
    assert sum(row["signups"] for row in body["daily"]) == 3
    assert body["revenue"] == {
        "currency": body["revenue"]["currency"],
        "gross": 0,
        "creator_share": 0,
        "platform_share": 0,
    }


class MatchRecorder(QueryRecorder):
    """QueryRecorder, with an aggregation recorded as its first ``$match`` (the part an
    index serves); one that starts with ``$group`` is a whole-collection read."""

    def started(self, event):
        if self.recording and event.command_name == "aggregate":
            stage = (event.command["pipeline"] or [{}])[0]
            query = stage.get("$match", {"$whole_collection": 1})
            self.queries.append(Query(event.command["aggregate"], dict(query), {}))
            return
        super().started(event)


# The admin report's whole-collection aggregations (docs/analytics.md#what-each-read-costs).
WHOLE = {
    "users: filter {'$whole_collection': 1} sort {}",
    "videos: filter {'$whole_collection': 1} sort {}",
    "fs.files: filter {'$whole_collection': 1} sort {}",
}


@pytest.mark.parametrize("backend", ["embedded"])
def test_reads_are_a_few_index_served_queries(make_app, backend, media, monkeypatch):
    """Each report is a fixed number of queries, each served by an index: the number does
    not grow with the events (bench/analytics.py measures the time)."""
    listener = MatchRecorder()
    monkeypatch.setattr(
        db, "MongoClient", functools.partial(MongoClient, event_listeners=[listener])
    )
    app = make_app()
    client = app.test_client()
    accounts = Accounts(client, app)
    library = Library(app, client, accounts)
    video = library.ready_video(media["h264"])
    admin = accounts.user_with_token("admin")
    play(client, library, video["id"], accounts.user_with_token())
    counts = []
    for events in (1, 200):
        with app.app_context():
            for n in range(events):
                moment = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=n % 300)
                daily_stats.add(
                    object_id(video["id"]), object_id(library.owner["user"]["id"]), moment, views=1
                )
        flush_counters(app)  # the writes of the events, before the reads recorded
        listener.queries.clear()
        listener.recording = True
        span = {"from": "2025-01-01", "to": "2025-12-31"}
        for path, bundle in (
            (f"/video/{video['id']}/analytics", library.owner),
            ("/analytics/creator", library.owner),
            ("/analytics/admin", admin),
        ):
            assert report(client, path, bundle, **span).status_code == 200
        listener.recording = False
        counts.append(len(listener.queries))
        with app.app_context():
            indexes = indexes_of(db.get_db())
        assert set(unserved(listener.queries, indexes)) == WHOLE
    assert counts[0] == counts[1]


def test_span_rules_in_the_service():
    assert analytics.span(date(2024, 1, 1), date(2024, 12, 31)) == (
        date(2024, 1, 1),
        date(2024, 12, 31),
    )
    first, last = analytics.span()
    assert (last - first).days == 29 and last == TODAY
