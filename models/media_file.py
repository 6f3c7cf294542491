"""Media bytes in GridFS (bucket ``fs``): upload with a sha256, delete, open."""

import contextlib
import hashlib

import gridfs

from models.db import get_db

CHUNK_SIZE = 255 * 1024  # GridFS's default; ranges seek to start // CHUNK_SIZE
READ_SIZE = 1024 * 1024


def bucket():
    return gridfs.GridFSBucket(get_db(), chunk_size_bytes=CHUNK_SIZE)


def store(path, filename, content_type, metadata=None):
    """Copy a file into GridFS chunk by chunk; returns (file_id, size, sha256 hex).

    On any failure the partial file is aborted, so no orphan chunks remain.
    """
    digest = hashlib.sha256()
    size = 0
    grid_in = bucket().open_upload_stream(
        filename, metadata={"contentType": content_type, **(metadata or {})}
    )
    try:
        with open(path, "rb") as source:
            while block := source.read(READ_SIZE):
                digest.update(block)
                size += len(block)
                grid_in.write(block)
        grid_in.close()
    except BaseException:
        grid_in.abort()
        raise
    return grid_in._id, size, digest.hexdigest()


def store_bytes(data, filename, content_type, metadata=None):
    file_id = bucket().upload_from_stream(
        filename, data, metadata={"contentType": content_type, **(metadata or {})}
    )
    return file_id, hashlib.sha256(data).hexdigest()


def download_to(file_id, path):
    with open(path, "wb") as target:
        bucket().download_to_stream(file_id, target)


def delete(*file_ids):
    """Delete files and their chunks; ids that are None or already gone are skipped."""
    for file_id in file_ids:
        if file_id is None:
            continue
        with contextlib.suppress(gridfs.errors.NoFile):
            bucket().delete(file_id)
