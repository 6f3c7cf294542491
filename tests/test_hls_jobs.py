"""The HLS ladder as a job: the ``hls`` stage of processing, and the ladder jobs that give
videos already ready a ladder (docs/videos.md#the-hls-ladder).

The encodes and stores are real. A video ready without a ladder is made as it would have
been before ladders existed: processed by an app with ``HLS_MAX_RENDITIONS=0``; an app
with ladders on the same database then queues its ladder job at start-up.
"""

import threading
from datetime import timedelta

import pytest
from bson import ObjectId

from app import create_app, stop_background_work
from demo import synthetic_media
from models import hls, ladder_jobs, media_file
from models.common import utcnow
from models.db import get_db
from services.media import hls_store, progress
from services.media.jobs import MediaJobs
from tests.support.accounts import Accounts
from tests.support.apps import test_config
from tests.support.stored import on_segment_store, video_document
from tests.support.uploads import upload, wait_until_processed

WAIT = 120  # seconds: only a broken job waits this long; no assertion is timed


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """320x240, 3 s with sound: one rung (240p) of one segment."""
    folder = tmp_path_factory.mktemp("hls-jobs")
    return synthetic_media.write_video(folder / "clip.mp4", seconds=3)


@pytest.fixture(scope="module")
def two_segments(tmp_path_factory):
    """320x240, 8 s: one rung (240p) of two segments."""
    folder = tmp_path_factory.mktemp("hls-jobs-long")
    return synthetic_media.write_video(folder / "clip.mp4", seconds=8)


def ladder_state(app, video_id):
    """(ladders of the video's segments, ladders of its keys)."""
    with app.app_context():
        database = get_db()
        query = {"metadata.role": hls.ROLE, "metadata.video_id": ObjectId(video_id)}
        segments = set(database.fs.files.distinct("metadata.ladder", query))
        keys = set(database.hls_keys.distinct("_id", {"video_id": ObjectId(video_id)}))
    return segments, keys


def ready_without_ladder(app, path):
    """A video processed by ``app`` (HLS_MAX_RENDITIONS=0): ready, no ladder, none queued."""
    client = app.test_client()
    accounts = Accounts(client, app)
    creator = accounts.bearer(accounts.user_with_token("creator"))
    video_id = upload(client, creator, path).json["video"]["id"]
    video = wait_until_processed(client, creator, video_id, timeout=WAIT)
    assert video["status"] == "ready", video.get("failure_reason")
    stored = video_document(app, video_id)
    assert "hls" not in stored and "hls_job" not in stored
    return video_id


def finish_jobs(*apps):
    for app in apps:
        app.extensions["media_jobs"].executor.shutdown(wait=True)


def count_ladders_stored(monkeypatch):
    """Every call of hls_store.store (a whole ladder stored), passed through."""
    real, calls = hls_store.store, []

    def counted(video_id, *args, **kwargs):
        calls.append(video_id)
        return real(video_id, *args, **kwargs)

    monkeypatch.setattr(hls_store, "store", counted)
    return calls


class TestTheHlsStage:
    def test_the_status_shows_stage_hls_while_the_ladder_is_made(
        self, app, client, accounts, clip, monkeypatch
    ):
        creator = accounts.bearer(accounts.user_with_token("creator"))
        storing, go_on = threading.Event(), threading.Event()

        def hold(metadata):
            storing.set()
            go_on.wait(WAIT)

        on_segment_store(monkeypatch, 1, hold)
        video_id = upload(client, creator, clip).json["video"]["id"]
        assert storing.wait(WAIT), "no segment was stored"
        status = client.get(f"/video/{video_id}/status", headers=creator).json
        go_on.set()
        assert (status["status"], status["stage"]) == ("processing", "hls")
        assert progress.overall("hls") <= status["progress"] < 1
        finished = wait_until_processed(client, creator, video_id, timeout=WAIT)
        assert finished["status"] == "ready"
        assert video_document(app, video_id)["hls"]["renditions"][0]["segments"] == 1


class TestTheQueue:
    def test_ready_videos_without_a_ladder_are_queued_once(self, make_app, clip, media):
        app = make_app(HLS_MAX_RENDITIONS=0)
        video_id = ready_without_ladder(app, clip)
        audio_id = ready_without_ladder(app, media["mp3"])
        with app.app_context():
            assert ladder_jobs.queue_missing_ladders(get_db()) == 1
            assert ladder_jobs.queue_missing_ladders(get_db()) == 0  # idempotent
            assert ladder_jobs.pending() == [ObjectId(video_id)]
        assert "hls_job" not in video_document(app, audio_id)  # audio has no ladder to make


class TestLadderJobs:
    def test_a_ready_video_gets_its_ladder_from_the_start_up_sweep(
        self, make_app, clip, monkeypatch
    ):
        video_id = ready_without_ladder(make_app(HLS_MAX_RENDITIONS=0), clip)
        before = video_document(make_app(PROCESSING_WORKERS=0), video_id)  # queued, not run here
        assert before["hls_job"]["state"] == "pending"
        stored = count_ladders_stored(monkeypatch)
        app = make_app()  # its start-up sweep takes the ladder job
        finish_jobs(app)
        video = video_document(app, video_id)
        assert stored == [ObjectId(video_id)]
        assert "hls_job" not in video and video["hls"]["renditions"][0]["name"] == "240p"
        assert ladder_state(app, video_id) == ({video["hls"]["ladder"]}, {video["hls"]["ladder"]})
        unchanged = ("media_file_id", "sha256", "thumbnail_file_id", "status", "duration")
        assert {f: video[f] for f in unchanged} == {f: before[f] for f in unchanged}

    def test_a_worker_claims_ladder_jobs(self, make_app, clip):
        video_id = ready_without_ladder(make_app(HLS_MAX_RENDITIONS=0), clip)
        api = make_app(PROCESSING_WORKERS=0)  # queues at start-up, runs nothing
        worker = MediaJobs(api, workers=1)  # what worker.py runs
        assert worker.claim_free() == [ObjectId(video_id)]
        worker.executor.shutdown(wait=True)
        assert "hls" in video_document(api, video_id)
        assert worker.claim_free() == []

    def test_a_failed_ladder_leaves_the_video_as_it_was_and_is_not_queued_again(
        self, make_app, two_segments, monkeypatch
    ):
        video_id = ready_without_ladder(make_app(HLS_MAX_RENDITIONS=0), two_segments)

        def refuse(metadata):
            raise OSError("the disk is full")

        on_segment_store(monkeypatch, 2, refuse)
        app = make_app()
        finish_jobs(app)
        video = video_document(app, video_id)
        assert (video["status"], video["hls_job"]["state"]) == ("ready", "failed")
        assert "hls" not in video and ladder_state(app, video_id) == (set(), set())
        with app.app_context():
            assert ladder_jobs.queue_missing_ladders(get_db()) == 0

    def test_a_lost_lease_mid_ladder_discards_its_files(self, make_app, two_segments, monkeypatch):
        video_id = ready_without_ladder(make_app(HLS_MAX_RENDITIONS=0), two_segments)
        taken = threading.Event()

        def take_the_lease(metadata):  # in the job's app context: another sweep claims it
            get_db().videos.update_one(
                {"_id": metadata["video_id"]},
                {
                    "$set": {
                        "hls_job.lease_owner": "another job",
                        "hls_job.lease_until": utcnow() + timedelta(hours=1),
                    }
                },
            )
            taken.set()

        on_segment_store(monkeypatch, 2, take_the_lease)
        app = make_app()
        finish_jobs(app)
        assert taken.is_set()
        video = video_document(app, video_id)
        assert video["hls_job"]["lease_owner"] == "another job" and "hls" not in video
        assert ladder_state(app, video_id) == (set(), set())

    def test_a_sweep_queues_no_ladder_job_already_waiting_for_a_slot(
        self, make_app, clip, monkeypatch
    ):
        before = make_app(HLS_MAX_RENDITIONS=0)
        first, second = (ready_without_ladder(before, clip) for _ in range(2))
        storing, go_on = threading.Event(), threading.Event()

        def hold(metadata):
            storing.set()
            go_on.wait(WAIT)

        on_segment_store(monkeypatch, 1, hold)
        app = make_app(PROCESSING_WORKERS=1)  # start-up: both queued, one slot
        try:
            assert storing.wait(WAIT)
            again = app.extensions["media_jobs"].sweep()
        finally:
            go_on.set()
        assert again == []  # the waiting one is queued already, the running one is claimed
        finish_jobs(app)
        assert all("hls" in video_document(app, video_id) for video_id in (first, second))

    def test_a_killed_attempt_s_files_go_when_the_next_one_starts(self, make_app, clip):
        video_id = ready_without_ladder(make_app(HLS_MAX_RENDITIONS=0), clip)
        dead = ObjectId()  # what a worker killed mid-ladder leaves: a key and a segment
        api = make_app(PROCESSING_WORKERS=0)
        with api.app_context():
            hls.store_key(dead, ObjectId(video_id), b"k" * 16)
            metadata = hls.segment_metadata(ObjectId(video_id), dead, "240p", 0, 3.0, "0" * 32, "")
            media_file.store_bytes(b"sealed", "dead.ts", "video/mp2t", metadata)
        worker = MediaJobs(api, workers=1)
        assert worker.claim_free() == [ObjectId(video_id)]
        worker.executor.shutdown(wait=True)
        ladder = video_document(api, video_id)["hls"]["ladder"]
        assert ladder_state(api, video_id) == ({ladder}, {ladder})


@pytest.mark.embedded
def test_two_processes_racing_make_a_ladder_exactly_once(embedded_database, clip, monkeypatch):
    """Two API processes start together on a database with a ready video and no ladder:
    each queues it and sweeps at start-up, then sweeps again, together; one ladder is made."""
    apps = []

    def start(**overrides):
        apps.append(create_app(test_config(MONGODB_URI=embedded_database, **overrides)))
        return apps[-1]

    try:
        video_id = ready_without_ladder(start(HLS_MAX_RENDITIONS=0), clip)
        stored = count_ladders_stored(monkeypatch)
        racers = [start(), start()]
        barrier = threading.Barrier(len(racers))

        def sweep(app):
            barrier.wait(WAIT)
            app.extensions["media_jobs"].sweep()

        threads = [threading.Thread(target=sweep, args=(app,)) for app in racers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT)
        finish_jobs(*racers)
        video = video_document(racers[0], video_id)
        assert stored == [ObjectId(video_id)]
        assert ladder_state(racers[0], video_id) == ({video["hls"]["ladder"]},) * 2
        assert racers[1].extensions["media_jobs"].sweep() == []  # nothing left to claim
    finally:
        for app in apps:
            stop_background_work(app)
            app.extensions["mongo"].client.close()
