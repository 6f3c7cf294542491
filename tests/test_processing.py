"""Processing failures leave nothing behind; abandoned work is picked up at start-up."""

import threading

import pytest

from models import media_file
from models.db import get_db
from tests.support.uploads import eventually, gridfs_counts, upload, wait_until_processed


@pytest.fixture
def creator(accounts):
    return accounts.bearer(accounts.user_with_token("creator"))


def test_a_failing_step_marks_failed_and_removes_every_file(
    client,
    app,
    creator,
    media,
    monkeypatch,
):
    def broken(*args, **kwargs):
        raise RuntimeError("thumbnail store crashed")

    # The last step: the rendition is already in GridFS when storing the thumbnail fails.
    monkeypatch.setattr(media_file, "store_bytes", broken)
    video_id = upload(client, creator, media["mp4v"]).json["video"]["id"]
    video = wait_until_processed(client, creator, video_id)
    assert video["status"] == "failed"
    assert "thumbnail store crashed" in video["failure_reason"]
    assert eventually(lambda: gridfs_counts(app) == (0, 0))  # source, rendition: all gone


def test_a_video_left_processing_is_resumed_at_start_up(
    make_app,
    accounts,
    media,
    monkeypatch,
):
    first = make_app()
    client = first.test_client()
    creator = accounts.bearer(accounts.user_with_token("creator"))
    # The first process "dies" before processing: its job never runs.
    monkeypatch.setattr(first.extensions["media_jobs"], "submit", lambda video_id: None)
    video_id = upload(client, creator, media["h264"]).json["video"]["id"]
    with first.app_context():
        assert get_db().videos.find_one()["status"] == "processing"
    monkeypatch.undo()

    restarted = make_app()  # start-up sweep finds the abandoned video
    video = wait_until_processed(restarted.test_client(), creator, video_id)
    assert video["status"] == "ready"


def test_the_sweep_stops_before_the_database_client_closes(make_app):
    """A sweep that ran after shutdown closed the client only logged 'Cannot use MongoClient
    after close' (make run's Ctrl-C did that): the sweeper is stopped and joined first."""
    jobs, before = make_app().extensions["media_jobs"], set(threading.enumerate())
    jobs.start_sweeping()
    sweepers = [t for t in threading.enumerate() if t not in before and t.name == "media-sweep"]
    assert len(sweepers) == 1
    jobs.stop_sweeping()
    assert not sweepers[0].is_alive()
