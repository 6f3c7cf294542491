"""Watch progress, continue-watching, history and the watch time they credit
(docs/progress.md#watch-progress)."""

from datetime import UTC, datetime
from functools import partial

import pytest

from models import deleted_account
from models import progress as entries
from models.common import object_id
from models.db import get_db
from services import progress
from tests.support.concurrency import InFlight, all_at_once
from tests.support.counters import flush_counters
from tests.support.errors import assert_error
from tests.support.progress_clock import clock_fixture

embedded_only = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


clock = clock_fixture(datetime(2030, 5, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def video(library, media):
    return library.ready_video(media["h264"], duration=100.0, title="Long one")


def report(client, accounts, bundle, video_id, position, **query):
    return client.put(
        f"/video/{video_id}/progress",
        json={"position_seconds": position},
        headers=accounts.bearer(bundle),
        query_string=query,
    )


def reported(client, accounts, bundle, video_id, position):
    response = report(client, accounts, bundle, video_id, position)
    assert response.status_code == 204, response.get_json()
    assert response.data == b""


def watch_seconds(app, video_id):
    flush_counters()  # every app's: a test may report through several
    with app.app_context():
        days = get_db().video_days.find({"video_id": object_id(video_id)})
        return sum(day.get("watch_seconds", 0) for day in days)


def entry(app, bundle, video_id):
    with app.app_context():
        return entries.find(object_id(bundle["user"]["id"]), object_id(video_id))


def listed(client, accounts, bundle, path, **query):
    response = client.get(path, headers=accounts.bearer(bundle), query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.json


def ids(body):
    return [item["id"] for item in body["videos"]]


def test_a_report_is_stored_and_reporting_it_again_changes_nothing(
    app, client, accounts, viewer, video, clock
):
    reported(client, accounts, viewer, video["id"], 30)
    first = entry(app, viewer, video["id"])
    clock.advance(10)
    reported(client, accounts, viewer, video["id"], 30)
    again = entry(app, viewer, video["id"])

    assert (again["position_seconds"], again["duration"], again["progress"]) == (30, 100.0, 0.3)
    assert again["in_progress"] and not again["finished"]
    assert again["first_watched_at"] == first["first_watched_at"]
    assert watch_seconds(app, video["id"]) == 0  # a first report and a pause credit nothing
    with app.app_context():
        assert get_db().watch_progress.count_documents({}) == 1


def test_watch_time_is_the_wall_time_between_reports(app, client, accounts, viewer, video, clock):
    for position in (0, 10, 20, 30):
        reported(client, accounts, viewer, video["id"], position)
        clock.advance(10)
    assert watch_seconds(app, video["id"]) == 30


def test_reports_faster_than_real_time_do_not_inflate_watch_time(
    app, client, accounts, viewer, video, clock
):
    # A player claiming 10 s of progress every wall second, ten times.
    for position in range(0, 101, 10):
        reported(client, accounts, viewer, video["id"], position)
        clock.advance(1)
    assert watch_seconds(app, video["id"]) == 10


def test_fractions_of_seconds_add_up_and_never_exceed_the_wall_time(
    app, client, accounts, viewer, video, clock
):
    reported(client, accounts, viewer, video["id"], 0)
    for step in range(1, 11):
        clock.advance(2.5)
        reported(client, accounts, viewer, video["id"], step * 2.5)
    assert watch_seconds(app, video["id"]) == 25
    assert entry(app, viewer, video["id"])["watched_seconds"] == pytest.approx(25)


def test_seeking_forward_or_a_long_silence_is_not_watch_time(
    app, client, accounts, viewer, video, clock
):
    reported(client, accounts, viewer, video["id"], 10)
    clock.advance(3)
    reported(client, accounts, viewer, video["id"], 80)  # a seek: 3 s of wall time
    assert watch_seconds(app, video["id"]) == 3
    clock.advance(3)
    reported(client, accounts, viewer, video["id"], 20)  # a seek back: nothing
    assert watch_seconds(app, video["id"]) == 3
    clock.advance(3600)  # an hour away, then 60 s further along: at most the cap
    reported(client, accounts, viewer, video["id"], 80)
    assert watch_seconds(app, video["id"]) == 3 + progress.MAX_CREDIT_SECONDS


@embedded_only
def test_concurrent_reports_credit_the_same_wall_time_once(
    make_app, accounts, library, media, clock
):
    video = library.ready_video(media["h264"], duration=100.0)
    viewer = accounts.user_with_token("viewer")
    in_flight = InFlight()
    apps = [in_flight.wrap(make_app()), in_flight.wrap(make_app())]
    client = apps[0].test_client()
    reported(client, accounts, viewer, video["id"], 0)
    clock.advance(10)
    calls = [
        partial(
            apps[n % 2].test_client().put,
            f"/video/{video['id']}/progress",
            json={"position_seconds": 10},
            headers=accounts.bearer(viewer),
        )
        for n in range(10)
    ]
    responses = all_at_once(calls)

    assert [r.status_code for r in responses] == [204] * 10
    assert watch_seconds(apps[0], video["id"]) == 10  # not 10 x 10
    stored = entry(apps[0], viewer, video["id"])
    # Each report wrote, or yielded to another of the same moment after ATTEMPTS reads.
    assert stored["position_seconds"] == 10 and 2 < stored["reports"] <= 11
    assert in_flight.peak >= 3, "the reports never overlapped: this was not a race"


@pytest.mark.parametrize(
    ("position", "listed_now", "finished"),
    [(4.9, False, False), (5, True, False), (89.9, True, False), (90, False, True)],
)
def test_continue_watching_lists_from_5_percent_until_90_percent(
    client, accounts, viewer, video, position, listed_now, finished
):
    reported(client, accounts, viewer, video["id"], position)
    body = listed(client, accounts, viewer, "/me/continue-watching")
    assert ids(body) == ([video["id"]] if listed_now else [])
    (item,) = listed(client, accounts, viewer, "/me/history")["videos"]
    assert item["id"] == video["id"] and item["finished"] is finished
    assert item["position_seconds"] == position and item["duration"] == 100.0
    assert item["progress"] == pytest.approx(position / 100)


def test_a_finished_video_leaves_continue_watching(client, accounts, viewer, video):
    reported(client, accounts, viewer, video["id"], 50)
    item = listed(client, accounts, viewer, "/me/continue-watching")["videos"][0]
    assert item["title"] == "Long one" and item["locked"] is False
    assert item["playback_token"] and "token=" in item["thumbnail_url"]
    reported(client, accounts, viewer, video["id"], 95)
    assert ids(listed(client, accounts, viewer, "/me/continue-watching")) == []


def test_pages_are_most_recently_watched_first_and_cursors_are_bound(
    client, accounts, viewer, library, media, clock
):
    videos = [library.ready_video(media["h264"], duration=100.0)["id"] for _ in range(3)]
    for video_id in videos:
        reported(client, accounts, viewer, video_id, 50)
        clock.advance(10)
    reported(client, accounts, viewer, videos[0], 60)  # now the most recent

    first = listed(client, accounts, viewer, "/me/continue-watching", per_page=2)
    assert ids(first) == [videos[0], videos[2]]
    assert first["pagination"]["has_more"] is True
    cursor = first["pagination"]["next_cursor"]
    second = listed(client, accounts, viewer, "/me/continue-watching", per_page=2, cursor=cursor)
    assert ids(second) == [videos[1]]
    assert second["pagination"] == {"per_page": 2, "next_cursor": None, "has_more": False}

    headers = accounts.bearer(viewer)
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    for path, bad in (("/me/continue-watching", tampered), ("/me/history", cursor)):
        response = client.get(path, headers=headers, query_string={"cursor": bad})
        assert_error(response, 400, "invalid_cursor")


def test_history_holds_finished_and_unfinished_and_leaves_out_deleted_videos(
    app, client, accounts, viewer, library, media, clock
):
    kept, finished, deleted = (library.ready_video(media["h264"], duration=100.0) for _ in "abc")
    for video, position in ((kept, 1), (finished, 99), (deleted, 50)):
        reported(client, accounts, viewer, video["id"], position)
        clock.advance(1)
    response = client.delete(f"/video/{deleted['id']}", headers=accounts.bearer(library.owner))
    assert response.status_code in (200, 204), response.get_json()

    body = listed(client, accounts, viewer, "/me/history", per_page=1)
    assert ids(body) == [finished["id"]]  # the deleted one is skipped, the page still full
    assert body["videos"][0]["finished"] is True
    cursor = body["pagination"]["next_cursor"]
    rest = listed(client, accounts, viewer, "/me/history", per_page=1, cursor=cursor)
    assert ids(rest) == [kept["id"]] and rest["pagination"]["has_more"] is False
    assert ids(listed(client, accounts, viewer, "/me/continue-watching")) == []


def test_another_users_progress_is_not_mine(client, accounts, viewer, video):
    other = accounts.user_with_token("viewer")
    reported(client, accounts, other, video["id"], 50)
    assert ids(listed(client, accounts, viewer, "/me/continue-watching")) == []
    assert ids(listed(client, accounts, viewer, "/me/history")) == []


def test_only_a_video_one_may_watch_takes_reports(client, accounts, viewer, library, media):
    paid = library.ready_video(media["h264"], access="paid", price=500)
    private = library.ready_video(media["h264"], visibility="private")
    processing = library.ready_video(media["h264"], status="processing")
    assert_error(report(client, accounts, viewer, paid["id"], 1), 403, "purchase_required")
    assert_error(report(client, accounts, viewer, private["id"], 1), 404, "video_not_found")
    unknown = "0123456789abcdef01234567"
    assert_error(report(client, accounts, viewer, unknown, 1), 404, "video_not_found")
    owner = library.owner
    assert_error(report(client, accounts, owner, processing["id"], 1), 409, "video_not_ready")
    reported(client, accounts, owner, paid["id"], 1)  # its owner watches it
    assert_error(client.put(f"/video/{paid['id']}/progress", json={"position_seconds": 1}), 401)


def test_an_unlisted_video_takes_reports_with_its_key(
    app, client, accounts, viewer, library, media
):
    unlisted = library.ready_video(media["h264"], visibility="unlisted", duration=100.0)
    with app.app_context():
        key = get_db().videos.find_one({"_id": object_id(unlisted["id"])})["share_key"]
    assert_error(report(client, accounts, viewer, unlisted["id"], 50), 404, "video_not_found")
    assert report(client, accounts, viewer, unlisted["id"], 50, key=key).status_code == 204
    assert ids(listed(client, accounts, viewer, "/me/continue-watching")) == [unlisted["id"]]


def test_a_position_a_little_past_the_end_is_the_end(app, client, accounts, viewer, video):
    reported(client, accounts, viewer, video["id"], 101.5)
    stored = entry(app, viewer, video["id"])
    assert (stored["position_seconds"], stored["progress"], stored["finished"]) == (100, 1, True)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"position_seconds": 102.5}, "position_beyond_duration"),
        ({"position_seconds": 1e300}, "position_beyond_duration"),
        ({"position_seconds": -1}, "validation_error"),
        ({"position_seconds": "12"}, "validation_error"),
        ({"position_seconds": True}, "validation_error"),
        ({"position_seconds": None}, "validation_error"),
        ({"position_seconds": {"$gt": 0}}, "validation_error"),
        ({"position_seconds": [1]}, "validation_error"),
        ({}, "validation_error"),
        ({"position_seconds": 1, "user_id": "x"}, "validation_error"),
    ],
)
def test_bad_positions_are_400(app, client, accounts, viewer, video, body, code):
    response = client.put(
        f"/video/{video['id']}/progress", json=body, headers=accounts.bearer(viewer)
    )
    assert_error(response, 400, code)
    assert response.json["error"].endswith(".")
    assert entry(app, viewer, video["id"]) is None


def test_not_a_number_and_infinity_are_400(app, client, accounts, viewer, video):
    headers = {**accounts.bearer(viewer), "Content-Type": "application/json"}
    for text in ('{"position_seconds": NaN}', '{"position_seconds": Infinity}'):
        response = client.put(f"/video/{video['id']}/progress", data=text, headers=headers)
        assert_error(response, 400)
    assert entry(app, viewer, video["id"]) is None


def test_progress_is_exported_and_removed_with_the_account(app, client, accounts, viewer, video):
    reported(client, accounts, viewer, video["id"], 42)
    body = client.get("/me/export", headers=accounts.bearer(viewer)).json
    (exported,) = body["progress"]
    assert exported["video_id"] == video["id"] and exported["position_seconds"] == 42
    assert "reports" not in exported and "key_digest" not in exported
    with app.app_context():
        deleted_account.remove_owned(object_id(viewer["user"]["id"]))
        assert get_db().watch_progress.count_documents({}) == 0
