"""A processing job keeps its lease however long it runs, and a job that lost it changes nothing.

The jobs run for real (probe, rendition, thumbnail, GridFS). One step is slowed down by
a test hook, past a lease of one second: the thumbnail's ``store_bytes``, the last file a
job makes. While it waits, the test sweeps as the per-process sweep would, or hands the
video to a second job as a sweep in another process would after the lease ran out.
"""

import threading
import time
from datetime import timedelta

import pytest
from bson import ObjectId

from models import media_file
from models.common import utcnow
from models.db import get_db
from tests.support.stored import referenced_file_ids, stored_file_ids, video_document
from tests.support.uploads import upload, wait_until_processed

LEASE_SECONDS = 1
WAIT = 120  # seconds: only a broken job waits this long; no assertion is timed


@pytest.fixture
def app(make_app):
    """The app of every fixture here (client, accounts): processing leases of one second."""
    return make_app(PROCESSING_LEASE_SECONDS=LEASE_SECONDS)


@pytest.fixture
def creator(accounts):
    return accounts.bearer(accounts.user_with_token("creator"))


def hold_first_thumbnail(monkeypatch, hook, before_storing=False):
    """Run ``hook(video_id)`` in the first job that stores a thumbnail, after (or before) it
    stores it; later thumbnails are stored untouched. Returns the list of calls."""
    real_store_bytes, calls = media_file.store_bytes, []

    def held(data, filename, content_type, metadata=None):
        calls.append(metadata["video_id"])
        first = len(calls) == 1
        if first and before_storing:
            hook(metadata["video_id"])
        stored = real_store_bytes(data, filename, content_type, metadata)
        if first and not before_storing:
            hook(metadata["video_id"])
        return stored

    monkeypatch.setattr(media_file, "store_bytes", held)
    return calls


def finish_every_job(app):
    """Wait for every job this app queued, the late ones included."""
    app.extensions["media_jobs"].executor.shutdown(wait=True)


OUTCOME = ("status", "media_file_id", "sha256", "thumbnail_file_id", "thumbnail_sha256")


def outcome(video):
    return {field: video.get(field) for field in OUTCOME}


def test_a_job_longer_than_its_lease_keeps_it_and_runs_once(
    app, client, creator, media, monkeypatch
):
    jobs = app.extensions["media_jobs"]
    stored, sweeps_done, swept = threading.Event(), threading.Event(), []

    def hold_past_three_leases(video_id):
        stored.set()
        sweeps_done.wait(WAIT)

    thumbnails = hold_first_thumbnail(monkeypatch, hold_past_three_leases)
    video_id = upload(client, creator, media["moov_end"]).json["video"]["id"]
    assert stored.wait(WAIT), "the job never stored its thumbnail"
    for _ in range(4 * 3):  # three leases' worth of sweeps, as often as the heartbeat beats
        time.sleep(LEASE_SECONDS / 4)
        swept += jobs.sweep()
    sweeps_done.set()
    finish_every_job(app)

    video = video_document(app, video_id)
    assert video["status"] == "ready", video.get("failure_reason")
    assert stored_file_ids(app) == referenced_file_ids(app, video)  # no orphan
    assert len(thumbnails) == 1, "the video was processed more than once"
    assert swept == [], "the sweep took a video whose job was still running"
    assert video["lease_until"] is None and video["lease_owner"] is None


def test_a_job_that_lost_its_lease_discards_its_work_and_the_holders_stands(
    app, client, creator, media, monkeypatch
):
    jobs = app.extensions["media_jobs"]
    holders, taken_over = {}, threading.Event()

    def lose_the_lease_to_a_second_job(video_id):
        take_over(app, jobs, video_id)
        holders["ready"] = outcome(video_document(app, video_id))
        taken_over.set()

    hold_first_thumbnail(monkeypatch, lose_the_lease_to_a_second_job)
    video_id = upload(client, creator, media["moov_end"]).json["video"]["id"]
    assert taken_over.wait(WAIT), "the second job never finished"
    finish_every_job(app)

    video = video_document(app, video_id)
    assert holders["ready"]["status"] == "ready"
    assert outcome(video) == holders["ready"]  # media, thumbnail and ETag unchanged after ready
    assert stored_file_ids(app) == referenced_file_ids(app, video)  # the first job's files are gone


def test_a_job_that_lost_its_lease_and_then_failed_leaves_the_source_to_the_holder(
    app, client, creator, media, monkeypatch
):
    jobs = app.extensions["media_jobs"]

    taken_over = threading.Event()

    def lose_the_lease_then_fail(video_id):
        take_over(app, jobs, video_id)
        taken_over.set()
        raise RuntimeError("the thumbnail could not be stored")

    hold_first_thumbnail(monkeypatch, lose_the_lease_then_fail, before_storing=True)
    video_id = upload(client, creator, media["h264"]).json["video"]["id"]
    assert taken_over.wait(WAIT), "the second job never finished"
    finish_every_job(app)

    video = video_document(app, video_id)
    assert (video["status"], video["failure_reason"]) == ("ready", None)
    assert video["media_file_id"] == video["source_file_id"]  # stored as is: the source plays
    assert stored_file_ids(app) == referenced_file_ids(app, video)


def test_a_job_that_lost_its_lease_stops_at_the_next_step(app, client, creator, media, monkeypatch):
    """Lost after its rendition was stored: it makes no thumbnail, and its rendition goes."""
    jobs, taken_over = app.extensions["media_jobs"], threading.Event()
    real_store, renditions = media_file.store, []

    def store_then_lose_the_lease(path, filename, content_type, metadata=None):
        stored = real_store(path, filename, content_type, metadata)
        if (metadata or {}).get("role") == "media":
            renditions.append(stored[0])
            if len(renditions) == 1:
                take_over(app, jobs, metadata["video_id"])
                taken_over.set()
        return stored

    monkeypatch.setattr(media_file, "store", store_then_lose_the_lease)
    thumbnails = hold_first_thumbnail(monkeypatch, lambda video_id: None)
    video_id = upload(client, creator, media["moov_end"]).json["video"]["id"]
    assert taken_over.wait(WAIT), "the second job never finished"
    finish_every_job(app)

    video = video_document(app, video_id)
    assert video["status"] == "ready" and video["media_file_id"] == renditions[1]
    assert len(thumbnails) == 1, "the job that lost its lease went on to make a thumbnail"
    assert stored_file_ids(app) == referenced_file_ids(app, video)  # its rendition is gone


def take_over(app, jobs, video_id):
    """What another process does when this one stalls past its lease: the lease runs out,
    that process's sweep claims the video (a new owner) and processes it to the end."""
    with app.app_context():
        get_db().videos.update_one(
            {"_id": video_id},
            {
                "$set": {
                    "lease_until": utcnow() - timedelta(seconds=1),
                    "lease_owner": "a process that stalled before this one",
                }
            },
        )
    jobs.submit(video_id).result(WAIT)


def test_a_deleted_video_left_processing_is_finished_and_its_lease_released(
    app, client, creator, media
):
    """A video deleted while a process that died was working on it: the old job returned at
    once for a deleted video and kept the lease it had just claimed, so each time the lease
    ran out the sweep claimed it again, for as long as the video existed."""
    jobs = app.extensions["media_jobs"]
    video_id = upload(client, creator, media["h264"]).json["video"]["id"]  # stored as it is
    assert wait_until_processed(client, creator, video_id)["status"] == "ready"
    with app.app_context():  # as a dead process leaves it, deleted meanwhile
        get_db().videos.update_one(
            {"_id": ObjectId(video_id)},
            {"$set": {"status": "processing", "lease_until": None, "deleted_at": utcnow()}},
        )
        assert jobs.sweep() == [ObjectId(video_id)]
    finish_every_job(app)

    video = video_document(app, video_id)
    assert video["status"] == "ready" and video["lease_until"] is None
    assert video["deleted_at"] is not None
