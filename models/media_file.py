"""Media bytes in GridFS (bucket ``fs``): upload with a sha256 under a lease, and delete.

Reading a range of a file is models/media_chunks.py.
"""

import hashlib
import itertools
import logging
import threading
import time
from datetime import timedelta

import gridfs
from bson import Binary, ObjectId
from flask import current_app, has_app_context
from pymongo.errors import PyMongoError

from models.common import utcnow
from models.db import get_db

log = logging.getLogger(__name__)

CHUNK_SIZE = 255 * 1024  # GridFS's default (reads use each file's own chunkSize)
INSERT_BATCH_CHUNKS = 16  # chunks per insert_many on upload: ~4 MB in flight


def bucket():
    return gridfs.GridFSBucket(get_db(), chunk_size_bytes=CHUNK_SIZE)


def store(path, filename, content_type, metadata=None):
    """Copy a file into GridFS chunk by chunk; returns (file_id, size, sha256 hex).

    Written by hand, not with GridIn: measured (bench/upload.py), pymongo
    4.20's GridIn buffers up to 48 MB of chunks per insert_many and then
    encodes them, which raised the server's peak RSS by ~140 MB per upload.
    Here a batch is ``INSERT_BATCH_CHUNKS`` chunks (~4 MB). The layout is plain
    GridFS (``fs.files`` + ``fs.chunks``), so GridFSBucket reads it back. The
    files document is written last, and on any failure the chunks already
    written are removed: no orphans.
    """
    database = get_db()
    file_id = ObjectId()
    digest = hashlib.sha256()
    size = 0
    lease = _UploadLease(database, file_id)
    try:
        with open(path, "rb") as source:
            for batch in _chunk_batches(source, file_id, digest):
                database.fs.chunks.insert_many(batch, ordered=False)
                size += sum(len(chunk["data"]) for chunk in batch)
                lease.renew_if_due()
        database.fs.files.insert_one(
            {
                "_id": file_id,
                "length": size,
                "chunkSize": CHUNK_SIZE,
                "uploadDate": utcnow(),
                "filename": filename,
                "metadata": {"contentType": content_type, **(metadata or {})},
            }
        )
    except BaseException:
        _discard(database, file_id)
        raise
    lease.release()
    return file_id, size, digest.hexdigest()


UPLOAD_LEASE = timedelta(seconds=60)


class _UploadLease:
    """A ``pending_uploads`` document while store() writes chunks: a process that dies
    mid-upload leaves it behind, and remove_abandoned_uploads() later removes its chunks."""

    def __init__(self, database, file_id):
        self.collection, self.file_id = database.pending_uploads, file_id
        self.renewed = utcnow()
        self.collection.insert_one({"_id": file_id, "lease_until": self.renewed + UPLOAD_LEASE})

    def renew_if_due(self):
        now = utcnow()
        if now - self.renewed > UPLOAD_LEASE / 4:
            self.collection.update_one(
                {"_id": self.file_id}, {"$set": {"lease_until": now + UPLOAD_LEASE}}
            )
            self.renewed = now

    def release(self):
        self.collection.delete_one({"_id": self.file_id})


ABANDONED_PER_SWEEP = 20


def remove_abandoned_uploads():
    """Remove the chunks of uploads whose process died mid-way (their lease ran out)."""
    database = get_db()
    abandoned = database.pending_uploads.find({"lease_until": {"$lt": utcnow()}}, {"_id": 1})
    for pending in list(abandoned.limit(ABANDONED_PER_SWEEP)):
        _delete_stored(database, pending["_id"])
        log.info("removed the chunks of abandoned upload %s", pending["_id"])


def _discard(database, file_id):
    """Remove a file (what a failed store() wrote, or one that delete() is given); if MongoDB
    is away, keep trying in the background until it is back.

    The failure is often the database itself going away, and the first
    delete then fails too: the chunks would stay for good (found by
    tests/faults/). The files document goes as well, in case its
    insert reached the server although the reply did not. The retry thread
    cleans up seconds after the database returns; the upload's lease covers
    the case it cannot, this process dying first (remove_abandoned_uploads,
    up to a lease and a sweep later).
    """
    deleted_or_retried(lambda: _delete_stored(database, file_id), f"file {file_id}")


def _delete_stored(database, file_id):
    database.fs.chunks.delete_many({"files_id": file_id})
    database.fs.files.delete_one({"_id": file_id})
    database.pending_uploads.delete_one({"_id": file_id})  # last: until then, the sweep retries


def delete_files(database, ids):
    """Delete the files ``ids`` at once, chunks first: a delete cut short leaves a files
    document that a later look-up finds, never chunks no files document points at."""
    uncache(ids)
    database.fs.chunks.delete_many({"files_id": {"$in": ids}})
    database.fs.files.delete_many({"_id": {"$in": ids}})


def uncache(ids):
    """This host's cached copies of the files go first (services/media_cache: another host's
    are never served, since a deleted file is no longer named by any video or ladder, and its
    least-recently-used eviction removes them)."""
    if has_app_context() and "media_cache" in current_app.extensions:
        current_app.extensions["media_cache"].invalidate([i for i in ids if i is not None])


def deleted_or_retried(delete, what, thread_name="file-cleanup"):
    """Run ``delete()``; if MongoDB is away, retry it in the background, backing off up to a
    minute, until it answers. Deletes clean up after failures, so the first attempt often
    meets the same outage, and no later attempt would find what it was to delete."""
    try:
        delete()
    except PyMongoError:
        log.warning("deleting %s deferred: the database is unreachable", what)
        threading.Thread(
            target=_retry_delete, args=(delete, what), name=thread_name, daemon=True
        ).start()


def _retry_delete(delete, what):
    delay = 1.0
    while True:
        time.sleep(delay)
        try:
            delete()
        except PyMongoError:
            delay = min(delay * 2, 60.0)
            continue
        log.info("deferred delete of %s done", what)
        return


def _chunk_batches(source, file_id, digest):
    batch = []
    for number in itertools.count():
        data = source.read(CHUNK_SIZE)
        if not data:
            break
        digest.update(data)
        batch.append({"files_id": file_id, "n": number, "data": Binary(data)})
        if len(batch) == INSERT_BATCH_CHUNKS:
            yield batch
            batch = []
    if batch:
        yield batch


def store_bytes(data, filename, content_type, metadata=None):
    file_id = bucket().upload_from_stream(
        filename, data, metadata={"contentType": content_type, **(metadata or {})}
    )
    return file_id, hashlib.sha256(data).hexdigest()


def download_to(file_id, path):
    with open(path, "wb") as target:
        bucket().download_to_stream(file_id, target)


def find_file(file_id):
    """The ``fs.files`` document (length, chunkSize, uploadDate), or None."""
    if file_id is None:
        return None
    return get_db().fs.files.find_one(
        {"_id": file_id}, {"length": 1, "chunkSize": 1, "uploadDate": 1}
    )


def delete(*file_ids):
    """Delete files and their chunks (retried while MongoDB is away); None ids are skipped.

    The callers clean up after a failure, often the database going away: a delete
    that raised there would leave the file for good.
    """
    database = get_db()
    uncache(file_ids)
    for file_id in file_ids:
        if file_id is not None:
            _discard(database, file_id)


def create_indexes(database):
    """GridFS's own indexes (GridIn would make them; store() writes chunks itself)."""
    database.fs.chunks.create_index([("files_id", 1), ("n", 1)], unique=True)
    database.fs.files.create_index([("filename", 1), ("uploadDate", 1)])
    database.pending_uploads.create_index([("lease_until", 1)])
