"""The counter buffer (models.counter_buffer): increments merged in memory, written in bulk
off the request's path, exact after a flush (docs/analytics.md#when-the-counters-are-written).
"""

import functools
import logging
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import MongoClient, monitoring

from app import create_app
from devtools.embedded_mongo import free_port
from models import counter_buffer, daily_stats, db
from models.common import object_id
from tests.support.apps import test_config
from tests.support.faults import wait_until

embedded_only = pytest.mark.parametrize("backend", ["embedded"], indirect=True)
MOMENT = datetime(2025, 3, 7, 15, tzinfo=UTC)
COUNTER_COLLECTIONS = ("video_days", "video_months", "owner_months", "platform_months", "videos")


class UpdateRecorder(monitoring.CommandListener):
    """{collection: [number of updates in each update command]} of the counter collections."""

    def __init__(self):
        self.updates = {}

    def started(self, event):
        if event.command_name == "update" and event.command["update"] in COUNTER_COLLECTIONS:
            batch = self.updates.setdefault(event.command["update"], [])
            batch.append(len(event.command["updates"]))

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


@pytest.fixture
def slow_flusher(monkeypatch):
    """No timed flush during the test: only the flushes it makes."""
    monkeypatch.setattr(counter_buffer, "FLUSH_SECONDS", 600.0)


@pytest.fixture
def video(library, media):
    return library.ready_video(media["h264"], duration=100.0)


def capture_errors(caplog, monkeypatch):
    """caplog's handler back on the root logger after create_app replaced its handlers."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [*root.handlers, caplog.handler])
    caplog.set_level(logging.ERROR)


def ids(library, video):
    return object_id(video["id"]), object_id(library.owner["user"]["id"])


def counters_of(app, video_id, owner_id):
    """What the database holds of the video's day, its month, the owner's and platform's."""
    with app.app_context():
        database = db.get_db()
        day = database.video_days.find_one({"_id": f"{video_id}:2025-03-07"}) or {}
        months = [
            (database[name].find_one({"_id": key}) or {}).get("days", {}).get("07", {})
            for name, key in (
                ("video_months", f"{video_id}:2025-03"),
                ("owner_months", f"{owner_id}:2025-03"),
                ("platform_months", "2025-03"),
            )
        ]
        watched = database.videos.find_one({"_id": video_id}).get("watch_seconds", 0)
    pick = ("views", "watch_seconds", "likes")
    return {
        "day": {name: day.get(name, 0) for name in pick},
        "months": [{name: month.get(name, 0) for name in pick} for month in months],
        "video_watch_seconds": watched,
    }


def expected(views, watch_seconds, likes):
    figures = {"views": views, "watch_seconds": watch_seconds, "likes": likes}
    return {"day": figures, "months": [figures] * 3, "video_watch_seconds": watch_seconds}


def add_events(app, video_id, owner_id, times):
    with app.app_context():
        for n in range(times):
            daily_stats.add(video_id, owner_id, MOMENT, views=1, watch_seconds=n % 7)
            daily_stats.add(video_id, owner_id, MOMENT, likes=1 if n % 2 else -1)


@embedded_only
def test_many_adds_to_one_day_are_one_update_per_collection(
    make_app, backend, library, media, monkeypatch, slow_flusher
):
    recorder = UpdateRecorder()
    monkeypatch.setattr(
        db, "MongoClient", functools.partial(MongoClient, event_listeners=[recorder])
    )
    app = make_app()
    video = library.ready_video(media["h264"], duration=100.0)
    video_id, owner_id = ids(library, video)
    recorder.updates.clear()
    add_events(app, video_id, owner_id, 60)
    assert recorder.updates == {}  # nothing written on the callers' thread
    assert app.extensions["counters"].flush(10)
    # One update command of one update each, per collection, for 120 events.
    assert recorder.updates == {name: [1] for name in COUNTER_COLLECTIONS}
    assert counters_of(app, video_id, owner_id) == expected(60, sum(n % 7 for n in range(60)), 0)


@pytest.mark.parametrize("backend", ["mongomock", "embedded"], indirect=True)
def test_a_report_flushes_first(make_app, backend, library, video, slow_flusher):
    app = make_app()
    video_id, owner_id = ids(library, video)
    add_events(app, video_id, owner_id, 3)
    assert app.extensions["counters"].pending() > 0
    response = app.test_client().get(
        f"/video/{video['id']}/analytics",
        headers=library.accounts.bearer(library.owner),
        query_string={"from": "2025-03-01", "to": "2025-03-31"},
    )
    assert response.status_code == 200, response.json
    assert response.json["totals"]["views"] == 3
    assert app.extensions["counters"].pending() == 0


def test_the_flusher_writes_on_its_own(app, library, video, monkeypatch):
    monkeypatch.setattr(counter_buffer, "FLUSH_SECONDS", 0.05)
    monkeypatch.setattr(counter_buffer, "IDLE_SECONDS", 600.0)  # it waits; an add wakes it
    buffer = counter_buffer.CounterBuffer(app)
    video_id, owner_id = ids(library, video)
    for views in (2, 3):
        buffer.add("video_days", f"{video_id}:2025-03-07", {"views": views}, {"video_id": video_id})
        wait_until(lambda: buffer.pending() == 0, 10, message="the timed flush")
    wait_until(lambda: buffer.written == 2, 10, message="the second write")
    assert counters_of(app, video_id, owner_id)["day"]["views"] == 5
    buffer.stop()


@embedded_only
def test_two_processes_add_up(make_app, backend, library, media, slow_flusher):
    first, second = make_app(), make_app()
    video = library.ready_video(media["h264"], duration=100.0)
    video_id, owner_id = ids(library, video)
    add_events(first, video_id, owner_id, 5)
    add_events(second, video_id, owner_id, 8)
    assert first.extensions["counters"].flush(10) and second.extensions["counters"].flush(10)
    seconds = sum(n % 7 for n in range(5)) + sum(n % 7 for n in range(8))
    assert counters_of(first, video_id, owner_id) == expected(13, seconds, -1)


@embedded_only
def test_ops_a_bulk_refused_are_retried_once_and_the_rest_not_doubled(
    make_app, backend, library, media, slow_flusher
):
    app = make_app()
    video = library.ready_video(media["h264"], duration=100.0)
    video_id, owner_id = ids(library, video)
    with app.app_context():  # a day whose views cannot take an $inc (for now)
        db.get_db().video_days.insert_one({"_id": f"{video_id}:2025-03-07", "views": "broken"})
    add_events(app, video_id, owner_id, 4)
    with app.app_context():  # the next day: in the same bulk as the refused day, written
        daily_stats.add(video_id, owner_id, MOMENT + timedelta(days=1), views=5)
    buffer = app.extensions["counters"]
    assert buffer.flush(10) is False
    assert buffer.pending() == 1 and buffer.failed_writes == 1
    with app.app_context():
        db.get_db().video_days.update_one({"_id": f"{video_id}:2025-03-07"}, {"$set": {"views": 0}})
    add_events(app, video_id, owner_id, 2)  # merged into the op kept for its retry
    assert buffer.flush(10) is True and buffer.pending() == 0
    assert counters_of(app, video_id, owner_id) == expected(6, 0 + 1 + 2 + 3 + 0 + 1, 0)
    with app.app_context():
        next_day = db.get_db().video_days.find_one({"_id": f"{video_id}:2025-03-08"})
    assert next_day["views"] == 5  # written once, not again with the retry


@embedded_only
def test_an_op_refused_every_time_is_logged_with_its_content(
    make_app, backend, library, media, slow_flusher, caplog, monkeypatch
):
    app = make_app()
    capture_errors(caplog, monkeypatch)
    video = library.ready_video(media["h264"], duration=100.0)
    video_id, owner_id = ids(library, video)
    with app.app_context():
        db.get_db().video_days.insert_one({"_id": f"{video_id}:2025-03-07", "views": "broken"})
        daily_stats.add(video_id, owner_id, MOMENT, views=3)
    buffer = app.extensions["counters"]
    for _ in range(counter_buffer.ATTEMPTS):
        buffer.flush(10)
    assert buffer.pending() == 0 and buffer.lost == 1
    (line,) = [r for r in caplog.records if "counter increments lost" in r.getMessage()]
    assert line.levelno == logging.ERROR
    assert line.counters["_id"] == f"{video_id}:2025-03-07"
    assert line.counters["$inc"] == {"views": 3}
    assert counters_of(app, video_id, owner_id)["months"][0]["views"] == 3  # the rest written


@pytest.mark.parametrize("backend", ["mongomock", "embedded"], indirect=True)
def test_stop_writes_what_is_pending(make_app, backend, library, video, slow_flusher):
    from app import stop_background_work

    app = make_app()
    video_id, owner_id = ids(library, video)
    add_events(app, video_id, owner_id, 4)
    stop_background_work(app)
    assert app.extensions["counters"].pending() == 0
    assert counters_of(app, video_id, owner_id) == expected(4, 0 + 1 + 2 + 3, 0)


def test_what_the_database_never_took_is_logged_at_shutdown(monkeypatch, caplog):
    monkeypatch.setattr(counter_buffer, "STOP_SECONDS", 1.0)
    away = f"mongodb://127.0.0.1:{free_port()}/away"
    app = create_app(test_config(MONGODB_URI=away, MONGODB_TIMEOUT_MS=100))
    capture_errors(caplog, monkeypatch)
    try:
        buffer = app.extensions["counters"]
        with app.app_context():
            daily_stats.add("v1", "o1", MOMENT, views=2)
        assert buffer.flush(5) is False  # the server is away: kept
        assert buffer.pending() == 5 - 1  # no watch time: no video document
        assert buffer.failed_writes >= 1 and buffer.lost == 0
        assert buffer.stop() is False
        lost = [r.counters for r in caplog.records if "counter increments lost" in r.getMessage()]
        assert {line["_id"] for line in lost} == {
            "v1:2025-03-07",
            "v1:2025-03",
            "o1:2025-03",
            "2025-03",
        }
        assert {"views": 2} in [line["$inc"] for line in lost]
        with app.app_context():  # after the stop: written at once, or logged
            daily_stats.add("v1", "o1", MOMENT, likes=1)
        assert buffer.pending() == 0 and buffer.lost == 8
    finally:
        app.extensions["audit_log"].stop()
        app.extensions["mongo"].client.close()


def test_a_full_buffer_writes_on_the_callers_thread(app, library, video, slow_flusher):
    buffer = counter_buffer.CounterBuffer(app, limit=3)
    video_id, _ = ids(library, video)
    for n in range(5):
        buffer.add("video_days", f"{video_id}:2025-03-0{n + 1}", {"views": 1})
        assert buffer.pending() <= 3
    assert buffer.written == 4 and buffer.pending() == 1
    assert buffer.flush(10) and buffer.written == 5


def test_unknown_counters_are_refused_before_anything_is_buffered(app):
    with app.app_context(), pytest.raises(ValueError):
        daily_stats.add("v1", "o1", MOMENT, shares=1)
    assert app.extensions["counters"].pending() == 0
