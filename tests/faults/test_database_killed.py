"""The database killed mid-stream and mid-upload, on the servers of conftest.py."""

import contextlib
import http.client
import json
import threading
from dataclasses import dataclass

import pytest

from demo import synthetic_media
from tests.support.faults import (
    MIB,
    SOON,
    UPLOAD_MB,
    assert_database_unavailable,
    assert_prefix_of,
    incomplete_files,
    media_path,
    open_stream,
    orphan_chunk_file_ids,
    request_within,
    upload_file,
    video_file_ids,
    wait_until,
)
from tests.support.live_server import Reply
from tests.support.uploads import ladder_file_ids

pytestmark = [pytest.mark.slow, pytest.mark.embedded]


@dataclass
class KilledMidStream:
    stored: bytes
    received: bytes  # what the stream delivered before and after the kill
    media: Reply  # the media, /auth/me, /health and / answers while the database is down
    me: Reply
    health: Reply
    home: Reply
    path: str
    master: int  # gunicorn's master and worker before the kill
    worker: int


@pytest.fixture(scope="class")
def killed_mid_stream(servers, ready_stream):
    """A stream is open when the database is killed; the routes are asked while it is down;
    then it is started again on the same port and storage."""
    servers.database_up()
    video_id, token, stored = ready_stream
    path = media_path(video_id, token)
    master, worker = servers.gunicorn.process.pid, servers.worker_pid()
    stream = open_stream(servers, path)
    try:
        assert stream.status == 200 and stream.content_length == len(stored)
        received = stream.read(MIB)
        servers.database.kill()
        received += stream.read_to_end()
    finally:
        stream.close()
    bearer = servers.http.bearer(servers.creator)
    killed = KilledMidStream(
        stored=stored,
        received=received,
        media=request_within(servers, "GET", path),
        me=request_within(servers, "GET", "/auth/me", headers=bearer),
        health=request_within(servers, "GET", "/health"),
        home=request_within(servers, "GET", "/"),
        path=path,
        master=master,
        worker=worker,
    )
    servers.database.start()
    return killed


class TestDatabaseKilledMidStream:
    def test_the_stream_ends_short_with_only_the_files_own_bytes(self, killed_mid_stream):
        received, stored = killed_mid_stream.received, killed_mid_stream.stored
        assert 0 < len(received) < len(stored), f"{len(received)} of {len(stored)} bytes arrived"
        assert_prefix_of(received, stored)  # never a wrong byte

    def test_while_it_is_down_every_database_route_is_503_at_once(self, killed_mid_stream):
        """503 JSON with Retry-After, quickly (request_within), on every DB-backed route."""
        assert_database_unavailable(killed_mid_stream.media)
        assert_database_unavailable(killed_mid_stream.me)
        assert_database_unavailable(killed_mid_stream.health, retry_after=False)
        assert killed_mid_stream.home.status == 200

    def test_gunicorn_recovers_without_a_restart(self, servers, killed_mid_stream):
        """Back on the same port and storage: the whole file again, from the same processes."""
        wait_until(servers.healthy, SOON, message="/health 200 after the database restart")
        whole = open_stream(servers, killed_mid_stream.path)
        try:
            assert whole.status == 200
            received = whole.read_to_end()
            assert_prefix_of(received, killed_mid_stream.stored)
            assert len(received) == len(killed_mid_stream.stored)
        finally:
            whole.close()
        assert servers.gunicorn.process.pid == killed_mid_stream.master
        assert servers.worker_pid() == killed_mid_stream.worker


# d. The database dies while an upload is being copied into GridFS


class OrphanGridFS(AssertionError):
    """GridFS data nothing owns: chunks without a files document, or files without a video."""


@dataclass
class KilledMidUpload:
    outcome: dict  # "reply": (status, headers, body), or "error": what the client raised
    answered: bool  # the upload thread ended
    temp_files_while_down: list
    files_before: set
    videos_before: set
    master: int  # gunicorn's master and worker before the kill
    worker: int


@pytest.fixture(scope="class")
def killed_mid_upload(servers, media_dir):
    """The database is killed once an upload's copy into GridFS has begun (chunks are there,
    the files document is not), then started again on the same port and storage."""
    servers.database_up()
    path = synthetic_media.write_noise_video(media_dir / "upload.mp4", UPLOAD_MB)
    files_before = {document["_id"] for document in servers.db.fs.files.find({}, {"_id": 1})}
    videos_before = {document["_id"] for document in servers.db.videos.find({}, {"_id": 1})}
    chunks_before = servers.db.fs.chunks.estimated_document_count()
    master, worker = servers.gunicorn.process.pid, servers.worker_pid()

    outcome = {}

    def upload():
        try:
            outcome["reply"] = upload_file(servers.port, servers.creator, path, timeout=60)
        except Exception as error:  # recorded, so the tests see every ending
            outcome["error"] = error

    uploader = threading.Thread(target=upload, daemon=True)
    uploader.start()
    wait_until(
        lambda: servers.db.fs.chunks.estimated_document_count() > chunks_before,
        60,
        interval=0.02,
        message="the upload's first chunks in GridFS",
    )
    servers.database.kill()
    uploader.join(60)
    with contextlib.suppress(AssertionError):  # the test says whether it emptied in time
        wait_until(lambda: not servers.temp_files(), SOON, message="server temp dir empty")
    temp_files_while_down = servers.temp_files()

    servers.database.start()
    wait_until(servers.healthy, SOON, message="/health 200 after the database restart")
    return KilledMidUpload(
        outcome=outcome,
        answered=not uploader.is_alive(),
        temp_files_while_down=temp_files_while_down,
        files_before=files_before,
        videos_before=videos_before,
        master=master,
        worker=worker,
    )


class TestDatabaseKilledMidUpload:
    def test_the_upload_ends_in_503_json_or_a_dropped_connection(self, killed_mid_upload):
        """Anything else (a timeout, a thread that ended with nothing recorded) fails."""
        outcome = killed_mid_upload.outcome
        assert killed_mid_upload.answered, "the upload got no answer"
        assert "reply" in outcome or "error" in outcome, "the upload thread recorded nothing"
        if "error" in outcome:
            error = outcome["error"]
            assert isinstance(error, (ConnectionError, http.client.HTTPException)), repr(error)
        else:
            status, headers, body = outcome["reply"]
            assert status == 503, (status, body[:300])  # 202: it was stored before the kill
            assert headers["Content-Type"].startswith("application/json")
            assert json.loads(body)["code"] == "database_unavailable"
            assert int(headers["Retry-After"]) > 0

    def test_its_temp_file_goes_while_the_database_is_down(self, killed_mid_upload):
        assert killed_mid_upload.temp_files_while_down == []

    def test_nothing_is_left_half_stored(self, servers, killed_mid_upload):
        """Every files document complete, every new video's files there."""
        assert incomplete_files(servers.db) == []
        files_now = {document["_id"] for document in servers.db.fs.files.find({}, {"_id": 1})}
        new_videos = {"_id": {"$nin": list(killed_mid_upload.videos_before)}}
        for video in servers.db.videos.find(new_videos):
            missing = [file_id for file_id in video_file_ids(video) if file_id not in files_now]
            assert not missing, f"video {video['_id']} points at missing files {missing}"
        assert files_now >= killed_mid_upload.files_before

    def test_uploads_work_again_on_the_same_gunicorn(self, servers, media_dir, killed_mid_upload):
        small = synthetic_media.write_video(media_dir / "after.mp4")
        status, _, body = upload_file(servers.port, servers.creator, small)
        assert status == 202, body[:300]
        servers.http.wait_until_ready(json.loads(body)["video"]["id"], servers.creator)
        assert servers.gunicorn.process.pid == killed_mid_upload.master
        assert servers.worker_pid() == killed_mid_upload.worker

    def test_what_it_left_is_cleaned_up_once_the_database_answers(self, servers, killed_mid_upload):
        """Its cleanup failed with the database and is retried in the background
        (models.media_file._discard) until the database answers."""
        with contextlib.suppress(AssertionError):
            wait_until(lambda: not orphan_chunk_file_ids(servers.db), timeout=30, message="cleanup")
        orphans = orphan_chunk_file_ids(servers.db)
        if orphans:
            count = servers.db.fs.chunks.count_documents({"files_id": {"$in": list(orphans)}})
            raise OrphanGridFS(f"{count} chunks of {len(orphans)} files with no fs.files document")
        owned = set()
        for video in servers.db.videos.find():
            owned |= set(video_file_ids(video)) | ladder_file_ids(servers.db, video)
        unowned = set(servers.db.fs.files.distinct("_id")) - killed_mid_upload.files_before - owned
        if unowned:
            raise OrphanGridFS(f"fs.files no video points at: {sorted(unowned)}")
