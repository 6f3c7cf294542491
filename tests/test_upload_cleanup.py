"""An upload cut short by a dying process soon leaves nothing behind (docs/videos.md#processing)."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from bson import Binary, ObjectId

from models import media_file
from models.common import utcnow
from models.db import get_db


def half_written_upload(lease_left):
    """What store() leaves when its process dies after two batches: chunks and a lease."""
    file_id = ObjectId()
    database = get_db()
    database.fs.chunks.insert_many(
        [{"files_id": file_id, "n": n, "data": Binary(b"x" * 100)} for n in range(3)]
    )
    database.pending_uploads.insert_one({"_id": file_id, "lease_until": utcnow() + lease_left})
    return file_id


def leftovers(file_id):
    database = get_db()
    return (
        database.fs.chunks.count_documents({"files_id": file_id}),
        database.pending_uploads.count_documents({"_id": file_id}),
    )


def test_the_sweep_removes_what_a_dead_process_left(app):
    with app.app_context():
        dead = half_written_upload(lease_left=timedelta(seconds=-1))
    app.extensions["media_jobs"].sweep()  # runs at start-up and every 30 s
    with app.app_context():
        assert leftovers(dead) == (0, 0)


def test_an_upload_in_progress_is_left_alone(app):
    with app.app_context():
        alive = half_written_upload(lease_left=timedelta(seconds=60))
    app.extensions["media_jobs"].sweep()
    with app.app_context():
        assert leftovers(alive) == (3, 1)


def test_store_leaves_no_lease_behind(app, multi_chunk_mp4):
    with app.app_context():
        file_id, size, _ = media_file.store(multi_chunk_mp4, "clip.mp4", "video/mp4")
        assert size == multi_chunk_mp4.stat().st_size
        assert get_db().pending_uploads.count_documents({}) == 0
        assert get_db().fs.chunks.count_documents({"files_id": file_id}) > 5


def test_a_failed_store_removes_its_chunks_and_lease(app, multi_chunk_mp4, monkeypatch):
    """The source breaks after two batches are in GridFS: everything written goes."""
    written = []
    real_batches = media_file._chunk_batches

    def two_batches_then_fail(source, file_id, digest):
        for batch in real_batches(source, file_id, digest):
            written.append(len(batch))
            yield batch
            if len(written) == 2:
                raise OSError("the upload's temporary file could not be read")

    monkeypatch.setattr(media_file, "INSERT_BATCH_CHUNKS", 2)
    monkeypatch.setattr(media_file, "_chunk_batches", two_batches_then_fail)
    with app.app_context():
        with pytest.raises(OSError):
            media_file.store(multi_chunk_mp4, "clip.mp4", "video/mp4")
        assert written == [2, 2]  # chunks were in the database before the failure
        assert get_db().fs.chunks.count_documents({}) == 0
        assert get_db().fs.files.count_documents({}) == 0
        assert get_db().pending_uploads.count_documents({}) == 0


def test_a_delete_while_the_database_is_away_is_retried(app, multi_chunk_mp4, monkeypatch):
    """delete() cleans up after failures, often the database going away: it must not give
    up (or raise) when its own first attempt fails too."""
    from pymongo.errors import AutoReconnect

    real_delete, attempts = media_file._delete_stored, []

    def away_then_back(database, file_id):
        attempts.append(file_id)
        if len(attempts) == 1:
            raise AutoReconnect("the database is away")
        real_delete(database, file_id)

    monkeypatch.setattr(media_file, "_delete_stored", away_then_back)
    monkeypatch.setattr(media_file.time, "sleep", lambda seconds: None)
    retries = []

    def run_at_start(target, args, name, daemon):  # the retry thread, run in this thread
        return SimpleNamespace(start=lambda: (retries.append(name), target(*args)))

    monkeypatch.setattr(media_file.threading, "Thread", run_at_start)
    with app.app_context():
        file_id, _, _ = media_file.store(multi_chunk_mp4, "clip.mp4", "video/mp4")
        media_file.delete(file_id)
        assert retries == ["file-cleanup"] and len(attempts) == 2
        assert get_db().fs.chunks.count_documents({"files_id": file_id}) == 0
        assert get_db().fs.files.count_documents({"_id": file_id}) == 0
