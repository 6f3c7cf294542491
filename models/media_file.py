"""Media bytes in GridFS (bucket ``fs``): upload with a sha256, delete, open."""

import contextlib
import hashlib
import itertools

import gridfs
from bson import Binary, ObjectId

from models.common import utcnow
from models.db import get_db

CHUNK_SIZE = 255 * 1024  # GridFS's default; ranges seek to start // CHUNK_SIZE
BATCH_CHUNKS = 16  # chunks per insert_many: ~4 MB in flight


def bucket():
    return gridfs.GridFSBucket(get_db(), chunk_size_bytes=CHUNK_SIZE)


def store(path, filename, content_type, metadata=None):
    """Copy a file into GridFS chunk by chunk; returns (file_id, size, sha256 hex).

    Written by hand, not with GridIn: measured (bench/upload.py), pymongo
    4.20's GridIn buffers up to 48 MB of chunks per insert_many and then
    encodes them, which raised the server's peak RSS by ~140 MB per upload.
    Here a batch is ``BATCH_CHUNKS`` chunks (~4 MB). The layout is plain
    GridFS (``fs.files`` + ``fs.chunks``), so GridFSBucket reads it back. The
    files document is written last, and on any failure the chunks already
    written are removed: no orphans.
    """
    database = get_db()
    file_id = ObjectId()
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "rb") as source:
            for batch in _chunk_batches(source, file_id, digest):
                database.fs.chunks.insert_many(batch, ordered=False)
                size += sum(len(chunk["data"]) for chunk in batch)
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
        database.fs.chunks.delete_many({"files_id": file_id})
        raise
    return file_id, size, digest.hexdigest()


def _chunk_batches(source, file_id, digest):
    batch = []
    for number in itertools.count():
        data = source.read(CHUNK_SIZE)
        if not data:
            break
        digest.update(data)
        batch.append({"files_id": file_id, "n": number, "data": Binary(data)})
        if len(batch) == BATCH_CHUNKS:
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


# How a range is read. Not with GridOut: its cursor has no batch_size and no
# upper ``n``, and a server may build a query's whole result when it is
# opened (the embedded server does: bench/stream.py measured 7 GB in the
# database for 20 full streams of a 200 MB file through one cursor each).
# So one query per window of WINDOW_CHUNKS (8 MB), fetched BATCH_CHUNKS at a
# time (512 KB in this process per stream). Measured: a window as fast as a
# direct GridFSBucket read (windows of 4 chunks cost a quarter of it); a
# batch of 2 keeps an API query's wait behind a stream's fetch short.
WINDOW_CHUNKS = 32
BATCH_CHUNKS = 2


class CorruptFile(Exception):
    """A chunk of a GridFS file is missing or out of place."""


def find_file(file_id):
    """The ``fs.files`` document (length, chunkSize, uploadDate), or None."""
    if file_id is None:
        return None
    return get_db().fs.files.find_one(
        {"_id": file_id}, {"length": 1, "chunkSize": 1, "uploadDate": 1}
    )


def read_range(file_doc, start, end, gate=None):
    """An iterator of bytes ``start``..``end`` (inclusive) of a GridFS file, chunk by chunk.

    Only the chunks the range covers are fetched, starting at chunk
    ``start // chunkSize``: the last megabyte of a large file costs what the
    first one does, and memory does not grow with the range. ``gate`` (a
    semaphore) bounds how many fetches of this process wait on the database
    at once. The collection is resolved here, inside the request (the body is
    iterated after it); nothing is read until the first chunk is asked for.
    """
    chunks = get_db().fs.chunks
    return _slices(chunks, file_doc, start, end, gate or contextlib.nullcontext())


def _slices(chunks, file_doc, start, end, gate):
    chunk_size = file_doc["chunkSize"]
    first, last = start // chunk_size, end // chunk_size
    expected = first
    while expected <= last:
        window_end = min(expected + WINDOW_CHUNKS - 1, last)
        for number, data in _window(chunks, file_doc["_id"], expected, window_end, gate):
            low = start - number * chunk_size if number == first else 0
            high = end - number * chunk_size + 1 if number == last else None
            yield data if (low, high) == (0, None) else data[low:high]
        expected = window_end + 1


def _window(chunks, file_id, first, last, gate):
    """(n, data) of chunks ``first``..``last`` in order; CorruptFile when one is missing."""
    cursor = chunks.find(
        {"files_id": file_id, "n": {"$gte": first, "$lte": last}},
        {"data": 1, "n": 1, "_id": 0},
        sort=[("n", 1)],
        batch_size=BATCH_CHUNKS,
    )
    with cursor:
        for expected in range(first, last + 1):
            with gate:  # only a call that empties the batch waits on the database
                chunk = next(cursor, None)
            if chunk is None or chunk["n"] != expected:
                raise CorruptFile(f"file {file_id}: chunk {expected} is missing")
            yield expected, chunk["data"]


def delete(*file_ids):
    """Delete files and their chunks; ids that are None or already gone are skipped."""
    for file_id in file_ids:
        if file_id is None:
            continue
        with contextlib.suppress(gridfs.errors.NoFile):
            bucket().delete(file_id)


def create_indexes(database):
    """GridFS's own indexes (GridIn would make them; store() writes chunks itself)."""
    database.fs.chunks.create_index([("files_id", 1), ("n", 1)], unique=True)
    database.fs.files.create_index([("filename", 1), ("uploadDate", 1)])
