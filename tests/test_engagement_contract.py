"""The engagement and analytics contract (docs/engagement.md, progress.md, analytics.md), end
to end through the API: what the other test files check on one side only (the progress entry,
the stored counters) is checked here where the caller sees it (the lists' bodies, the
analytics reports).

- the progress lists' items carry ``likes``, ``dislikes`` and ``my_reaction`` like every
  video body;
- a user's first pass of 90% is one completion in the day's counters, so ``completion_rate``
  moves (and seeking back and finishing again is not a second one);
- watch time from progress reports reaches the report, capped by the wall time;
- reactions reach the totals of the video's and the creator's reports;
- a playback session is one view in the day's counters, whatever its ranges;
- the admin report's revenue is the ledger's.
"""

from datetime import UTC, datetime, timedelta

import pytest

from models import daily_stats
from models.common import object_id
from models.db import get_db
from services import playback, progress
from services.errors import InvalidInput
from tests.support.counters import flush_counters
from tests.support.payments import VISA, Shop
from tests.support.progress_clock import clock_fixture

clock = clock_fixture()


@pytest.fixture
def video(library, media):
    return library.ready_video(media["h264"], duration=100.0, title="Contract clip")


def bearer(bundle):
    return {"Authorization": f"Bearer {bundle['token']}"}


def report_position(client, bundle, video_id, position):
    response = client.put(
        f"/video/{video_id}/progress", json={"position_seconds": position}, headers=bearer(bundle)
    )
    assert response.status_code == 204, response.get_json()


def react(client, bundle, video_id, value):
    response = client.put(
        f"/video/{video_id}/reaction", json={"value": value}, headers=bearer(bundle)
    )
    assert response.status_code == 200, response.get_json()


def analytics(client, path, bundle, **span):
    response = client.get(path, headers=bearer(bundle), query_string=span)
    assert response.status_code == 200, response.get_json()
    return response.json


def day_counters(app, video_id):
    flush_counters(app)
    with app.app_context():
        return list(get_db().video_days.find({"video_id": object_id(video_id)}))


def total(app, video_id, name):
    return sum(day.get(name, 0) for day in day_counters(app, video_id))


def play(client, library, video_id, bundle, *ranges):
    token = library.playback_token(video_id, bundle)
    for header in ranges or ("bytes=0-1",):
        response = client.get(
            f"/video/{video_id}/media", query_string={"token": token}, headers={"Range": header}
        )
        assert response.status_code == 206
    return token


@pytest.mark.parametrize("path", ["/me/continue-watching", "/me/history"])
def test_progress_lists_carry_the_reactions(client, accounts, viewer, video, path):
    other = accounts.user_with_token()
    react(client, viewer, video["id"], "like")
    react(client, other, video["id"], "dislike")
    report_position(client, viewer, video["id"], 50)
    response = client.get(path, headers=bearer(viewer))
    assert response.status_code == 200, response.json
    (item,) = response.json["videos"]
    assert (item["likes"], item["dislikes"], item["my_reaction"]) == (1, 1, "like")
    assert (item["position_seconds"], item["duration"], item["progress"]) == (50, 100.0, 0.5)


def test_a_first_pass_of_90_percent_is_one_completion(
    app, client, library, accounts, viewer, video, clock
):
    play(client, library, video["id"], viewer)
    for position in (80, 89.9):
        report_position(client, viewer, video["id"], position)
        clock.advance(10)
    assert total(app, video["id"], "completions") == 0  # 89.9% is not finished
    report_position(client, viewer, video["id"], 95)
    assert total(app, video["id"], "completions") == 1
    for position in (99, 10, 96):  # still finished, then seeking back and finishing again
        clock.advance(10)
        report_position(client, viewer, video["id"], position)
    assert total(app, video["id"], "completions") == 1

    body = analytics(client, f"/video/{video['id']}/analytics", library.owner)
    assert body["totals"]["views"] == 1
    assert body["totals"]["completion_rate"] == 1.0
    # Another user whose very first report is at the end: a completion too, without a view.
    report_position(client, accounts.user_with_token(), video["id"], 100)
    assert total(app, video["id"], "completions") == 2
    creator = analytics(client, "/analytics/creator", library.owner)
    assert creator["totals"]["completion_rate"] == 1.0  # capped: two completions, one view


def test_a_started_but_unfinished_video_is_no_completion(
    app, client, library, viewer, video, clock
):
    play(client, library, video["id"], viewer)
    play(client, library, video["id"], library.owner)
    report_position(client, viewer, video["id"], 95)
    report_position(client, library.owner, video["id"], 50)
    body = analytics(client, f"/video/{video['id']}/analytics", library.owner)
    assert body["totals"]["completion_rate"] == 0.5


def test_watch_time_from_reports_reaches_the_report(app, client, library, viewer, video, clock):
    start = clock.day()
    for position in (0, 10, 20, 30):  # 30 s watched in 30 s
        report_position(client, viewer, video["id"], position)
        clock.advance(10)
    for position in range(40, 100, 10):  # six claims of 10 s, one wall second apart
        report_position(client, viewer, video["id"], position)
        clock.advance(1)
    span = {"from": start, "to": clock.day()}
    body = analytics(client, f"/video/{video['id']}/analytics", library.owner, **span)
    # 30 s, then at most the wall time: 10 s up to the report at 40, 1 s for each after it.
    assert body["totals"]["watch_seconds"] == 30 + 10 + 5
    assert sum(row["watch_seconds"] for row in body["daily"]) == 45
    creator = analytics(client, "/analytics/creator", library.owner, **span)
    assert creator["totals"]["watch_seconds"] == 45


def test_reactions_reach_the_reports_totals(client, library, accounts, video):
    fans = [accounts.user_with_token() for _ in range(3)]
    for fan in fans:
        react(client, fan, video["id"], "like")
    react(client, fans[0], video["id"], "dislike")  # a switch moves the counts
    body = analytics(client, f"/video/{video['id']}/analytics", library.owner)
    assert (body["totals"]["likes"], body["totals"]["dislikes"]) == (2, 1)
    creator = analytics(client, "/analytics/creator", library.owner)
    assert (creator["totals"]["likes"], creator["totals"]["dislikes"]) == (2, 1)


def test_a_playback_session_is_one_view_of_the_day_whatever_its_ranges(
    app, client, library, accounts, video, monkeypatch
):
    viewer = accounts.user_with_token()
    token = play(client, library, video["id"], viewer, "bytes=0-1", "bytes=0-", "bytes=100-200")
    monkeypatch.setattr(playback, "VIEW_WINDOW", timedelta(0))  # only the session holds it
    monkeypatch.setattr(playback, "_counted", type(playback._counted)(10))  # nothing remembered
    response = client.get(
        f"/video/{video['id']}/media", query_string={"token": token}, headers={"Range": "bytes=0-1"}
    )
    assert response.status_code == 206
    assert total(app, video["id"], "views") == 1
    play(client, library, video["id"], viewer)  # a new session, with no window: a new view
    assert total(app, video["id"], "views") == 2
    assert total(app, video["id"], "unique_viewers") == 1
    body = analytics(client, f"/video/{video['id']}/analytics", library.owner)
    assert (body["totals"]["views"], body["daily"][-1]["views"]) == (2, 2)
    with app.app_context():
        assert get_db().videos.find_one({"_id": object_id(video["id"])})["views"] == 2


def test_the_admin_report_has_the_ledgers_revenue(app, client, accounts):
    shop = Shop(app, client, accounts)
    bought = shop.buy_video(shop.video(price=700), VISA)
    assert bought.status_code in (200, 201, 202), bought.json
    shop.deliver()
    admin = accounts.user_with_token("admin")
    body = analytics(client, "/analytics/admin", admin)
    revenue = body["revenue"]
    assert revenue["gross"] == 700
    assert revenue["creator_share"] + revenue["platform_share"] == 700
    assert revenue["creator_share"] > 0 and revenue["platform_share"] > 0
    old = analytics(client, "/analytics/admin", admin, **{"from": "2020-01-01", "to": "2020-01-31"})
    assert old["revenue"]["gross"] == 0  # the span's months only
    assert body["users_by_role"] == {"viewer": 1, "creator": 1, "admin": 1}


def test_daily_counters_of_a_day_add_to_owner_and_platform(app, video, library):
    """The roll-ups the creator's and admin's series read move with the video's day."""
    moment = datetime(2025, 6, 1, 12, tzinfo=UTC)
    owner = object_id(library.owner["user"]["id"])
    with app.app_context():
        daily_stats.add(object_id(video["id"]), owner, moment, views=2, completions=1)
        flush_counters(app)
        database = get_db()
        month = database.owner_months.find_one({"_id": f"{owner}:2025-06"})
        assert month["days"]["01"]["views"] == 2
        assert (
            database.platform_months.find_one({"_id": "2025-06"})["days"]["01"]["completions"] == 1
        )


def test_raw_per_event_records_expire(app, client, library, viewer, video):
    """The records kept per event (a session's first play, a user's last counted view, a
    viewer of a day) each have a TTL index on a date that their documents do carry."""
    play(client, library, video["id"], viewer)
    with app.app_context():
        database = get_db()
        for name in ("playback_views", "recent_views", "video_day_viewers"):
            found = list(database[name].find())
            assert found, name
            ttl = [
                index
                for index in database[name].index_information().values()
                if "expireAfterSeconds" in index
            ]
            assert len(ttl) == 1, name
            field = ttl[0]["key"][0][0]
            assert all(isinstance(document.get(field), datetime) for document in found), name
        viewers = database.video_day_viewers.index_information()
        days = [i["expireAfterSeconds"] for i in viewers.values() if "expireAfterSeconds" in i]
        assert days == [daily_stats.VIEWER_ENTRY_DAYS * 86400]


def test_the_progress_rules_hold_in_the_service_too():
    """The schema refuses a negative position before the service sees it; the service refuses
    it again, so another caller of services.progress (a job, a future route) cannot store one."""
    for bad in (-0.5, float("nan"), float("inf")):
        with pytest.raises(InvalidInput):
            progress.checked_position(bad, 100.0)
    with pytest.raises(InvalidInput) as beyond:
        progress.checked_position(102.01, 100.0)
    assert beyond.value.code == "position_beyond_duration"
    assert beyond.value.details["duration"] == 100.0
    assert progress.checked_position(102, 100.0) == 100.0  # within the slack: the end
    assert progress.checked_position(5000, None) == 5000  # no known length: taken as is
    # (progress, finished, in continue-watching) at the boundaries: 5% and 90% included.
    assert progress.state(4.99, 100) == (0.0499, False, False)
    assert progress.state(5, 100) == (0.05, False, True)
    assert progress.state(89.99, 100)[1:] == (False, True)
    assert progress.state(90, 100) == (0.9, True, False)
    assert progress.state(30, None) == (0.0, False, False)
