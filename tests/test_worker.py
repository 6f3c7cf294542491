"""worker.py, for real: separate processes on the embedded database, sharing its queue.

The API here runs with ``PROCESSING_WORKERS=0``, so it only queues uploads; the workers are
``python worker.py`` processes (docs/operations.md#processing-workers). Each claim and each
outcome is a log line of the worker that made it, which is how the tests count them. To stop
a worker at a known point of a job, ``tests/support/held_worker.py`` holds its first
thumbnail store (the rendition is stored by then) instead of a test guessing a moment.
"""

import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections import Counter
from itertools import chain
from pathlib import Path

import pytest

from app import create_app, stop_background_work
from demo import synthetic_media
from models import hls
from models.db import get_db
from tests.support.accounts import Accounts
from tests.support.apps import OUTBOX, test_config
from tests.support.stored import referenced_file_ids, stored_file_ids, video_document
from tests.support.uploads import eventually, upload

pytestmark = [pytest.mark.slow, pytest.mark.embedded]

ROOT = Path(__file__).resolve().parent.parent
WAIT = 180  # seconds: only a broken worker makes a test wait this long; nothing is timed
LEASE_SECONDS = 2
CLAIMED = re.compile(r"^claimed video (\w+) for processing$")
READY = re.compile(r"^video (\w+) ready ")


@pytest.fixture
def api(embedded_database):
    """The API as Docker Compose runs it: it queues uploads and processes nothing."""
    app = create_app(test_config(MONGODB_URI=embedded_database, PROCESSING_WORKERS=0))
    yield app
    stop_background_work(app)
    app.extensions["mongo"].client.close()


@pytest.fixture
def creator(api):
    accounts = Accounts(api.test_client(), api)
    return accounts.bearer(accounts.user_with_token("creator"))


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Four short MPEG-4 Part 2 clips: each is transcoded, so each job stores a rendition."""
    folder = tmp_path_factory.mktemp("worker-clips")
    return [
        synthetic_media.write_video(folder / f"clip-{n}.mp4", video_codec="mpeg4", hue=40 * n)
        for n in range(4)
    ]


class WorkerProcess:
    """One ``python worker.py`` (or the held one) on the test's database; stderr kept."""

    def __init__(
        self, uri, folder, jobs=1, held_marker=None, held_by="held_worker", drain_seconds=25
    ):
        self.log_path = folder / f"worker-{uuid.uuid4().hex[:8]}.log"
        command = [sys.executable, "worker.py"]
        if held_marker is not None:
            command = [sys.executable, "-m", f"tests.support.{held_by}", str(held_marker)]
        command += ["--drain-seconds", str(drain_seconds)]
        environment = {
            **os.environ,
            "APP_ENV": "testing",
            "MONGODB_URI": uri,
            "PROCESSING_WORKERS": str(jobs),
            "PROCESSING_LEASE_SECONDS": str(LEASE_SECONDS),
            "WORKER_POLL_SECONDS": "1",
            "RATELIMIT_STORAGE_URI": "memory://",
            "MAIL_OUTBOX_DIR": OUTBOX,
            "LOG_LEVEL": "INFO",
        }
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
            )

    def messages(self):
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                found.append(json.loads(line)["message"])
            except (ValueError, KeyError, TypeError):
                continue
        return found

    def matching(self, pattern):
        return [m.group(1) for m in map(pattern.match, self.messages()) if m]

    def stop(self, sig=signal.SIGTERM):
        """Send ``sig`` and wait: the exit status (negative: killed by a signal)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"the worker did not stop: {self.messages()[-5:]}") from None


@pytest.fixture
def workers(embedded_database, tmp_path):
    started = []

    def start(**options):
        worker = WorkerProcess(embedded_database, tmp_path, **options)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()


def all_ready(api, video_ids):
    return all(video_document(api, video_id)["status"] == "ready" for video_id in video_ids)


def test_an_api_without_workers_queues_uploads_and_processes_none(api, creator, clips):
    client = api.test_client()
    video_id = upload(client, creator, clips[0]).json["video"]["id"]
    api.extensions["media_jobs"].sweep()  # the API's own sweep: it takes no video either
    document = video_document(api, video_id)
    assert document["status"] == "processing"
    assert document["lease_until"] is None and document["lease_owner"] is None
    assert stored_file_ids(api) == {document["source_file_id"]}  # no rendition was started
    status = client.get(f"/video/{video_id}/status", headers=creator).json
    assert (status["stage"], status["progress"]) == ("queued", 0.0)


def test_two_workers_racing_process_each_video_exactly_once(api, creator, clips, workers):
    client = api.test_client()
    video_ids = [upload(client, creator, clip).json["video"]["id"] for clip in clips]
    racers = [workers(jobs=2), workers(jobs=2)]
    assert eventually(lambda: all_ready(api, video_ids), timeout=WAIT), [
        racer.messages()[-5:] for racer in racers
    ]
    assert [racer.stop() for racer in racers] == [0, 0]

    once = dict.fromkeys(video_ids, 1)
    assert Counter(chain(*(racer.matching(CLAIMED) for racer in racers))) == once
    assert Counter(chain(*(racer.matching(READY) for racer in racers))) == once
    documents = [video_document(api, video_id) for video_id in video_ids]
    served = set().union(*(referenced_file_ids(api, document) for document in documents))
    assert stored_file_ids(api) == served  # one rendition (and one ladder) each


def test_a_killed_worker_s_video_is_finished_by_another_with_no_orphan_files(
    api, creator, clips, workers, tmp_path
):
    marker = tmp_path / "held"
    held = workers(held_marker=marker)
    video_id = upload(api.test_client(), creator, clips[1]).json["video"]["id"]
    assert eventually(marker.exists, timeout=WAIT), held.messages()[-5:]
    assert len(stored_file_ids(api)) == 2  # the source and the held job's rendition
    assert held.stop(signal.SIGKILL) == -signal.SIGKILL

    rescuer = workers()
    assert eventually(lambda: all_ready(api, [video_id]), timeout=WAIT), rescuer.messages()[-5:]
    assert rescuer.stop() == 0  # its log is complete: "ready" is logged after the write
    assert held.matching(CLAIMED) == [video_id] and held.matching(READY) == []
    assert rescuer.matching(CLAIMED) == [video_id] and rescuer.matching(READY) == [video_id]
    document = video_document(api, video_id)
    # The dead job's rendition is gone.
    assert stored_file_ids(api) == referenced_file_ids(api, document)
    assert document["lease_owner"] is None and document["stage"] is None


def test_a_worker_killed_mid_ladder_leaves_its_job_to_another_and_no_segment_behind(
    api, creator, clips, workers, tmp_path
):
    marker = tmp_path / "held"
    held = workers(held_marker=marker, held_by="held_ladder_worker")
    video_id = upload(api.test_client(), creator, clips[3]).json["video"]["id"]
    assert eventually(marker.exists, timeout=WAIT), held.messages()[-5:]
    assert video_document(api, video_id)["stage"] == "hls"
    assert (len(segment_ids(api)), len(ladder_keys(api))) == (1, 1)  # half a ladder
    assert held.stop(signal.SIGKILL) == -signal.SIGKILL

    rescuer = workers()
    assert eventually(lambda: all_ready(api, [video_id]), timeout=WAIT), rescuer.messages()[-5:]
    assert rescuer.stop() == 0
    assert rescuer.matching(READY) == [video_id] and held.matching(READY) == []
    document = video_document(api, video_id)
    assert document["hls"]["renditions"], "the rescuer made the ladder"
    # The dead attempt's segment and key are gone; the published ladder's stay.
    assert stored_file_ids(api) == referenced_file_ids(api, document)
    assert segment_ids(api) and ladder_keys(api) == [document["hls"]["ladder"]]


def segment_ids(api):
    with api.app_context():
        return get_db().fs.files.distinct("_id", {"metadata.role": hls.ROLE})


def ladder_keys(api):
    with api.app_context():
        return get_db().hls_keys.distinct("_id")


def test_a_stopping_worker_gives_its_video_back_at_once(api, creator, clips, workers, tmp_path):
    marker = tmp_path / "held"
    held = workers(held_marker=marker, drain_seconds=0)
    video_id = upload(api.test_client(), creator, clips[2]).json["video"]["id"]
    assert eventually(marker.exists, timeout=WAIT), held.messages()[-5:]
    assert held.stop(signal.SIGTERM) == 0

    document = video_document(api, video_id)
    assert document["status"] == "processing"
    assert document["lease_until"] is None and document["lease_owner"] is None  # queued again
    assert stored_file_ids(api) == {document["source_file_id"]}  # its rendition and thumbnail went
    assert any("abandoned" in message for message in held.messages())

    taker = workers()
    assert eventually(lambda: all_ready(api, [video_id]), timeout=WAIT), taker.messages()[-5:]
    assert taker.stop() == 0
    assert taker.matching(READY) == [video_id]


def test_a_worker_with_no_job_slot_refuses_to_start(workers):
    idle = workers(jobs=0)
    assert idle.process.wait(WAIT) == 2
    assert "PROCESSING_WORKERS must be at least 1 for a worker" in idle.messages()
