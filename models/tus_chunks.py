"""A resumable upload's bytes, written straight into GridFS chunks as they arrive.

The layout is models/media_file.py's (``fs.chunks`` of CHUNK_SIZE, ``fs.files`` written
last), so once finished the file is an ordinary GridFS file. Until then the chunks belong
to the upload document (models/tus_upload.py), whose ``offset`` they are trusted up to:
a PATCH first ``rewind``s them to it (a crash may have left a chunk written past an offset
that was never moved), keeping the partial last chunk's bytes to complete it.
"""

import hashlib

from bson import Binary

from models.common import utcnow
from models.db import get_db
from models.media_file import CHUNK_SIZE, INSERT_BATCH_CHUNKS

READ_BATCH_CHUNKS = INSERT_BATCH_CHUNKS  # ~4 MB per round trip when reading back


def rewind(file_id, offset):
    """Drop what lies past ``offset`` and return the bytes of the partial chunk at it (which
    the next bytes complete; empty when ``offset`` is on a chunk boundary)."""
    chunks = get_db().fs.chunks
    number, kept = divmod(offset, CHUNK_SIZE)
    partial = b""
    if kept:
        found = chunks.find_one({"files_id": file_id, "n": number}, {"data": 1})
        partial = bytes(found["data"][:kept]) if found else b""
        if len(partial) != kept:
            raise CorruptUpload(f"chunk {number} of upload file {file_id} is missing")
    # The partial chunk itself stays (its first ``kept`` bytes are right): the next write
    # replaces it in one operation, so no crash ever leaves a hole below the offset.
    chunks.delete_many({"files_id": file_id, "n": {"$gte": number + (1 if kept else 0)}})
    return partial


class CorruptUpload(Exception):
    """A chunk below the offset is missing: the upload cannot be completed."""


def insert(file_id, first_number, pieces, replace_first=False):
    """Store ``pieces`` (bytes, each a whole chunk but maybe the last) as chunks from
    ``first_number`` on; ``replace_first``: that chunk exists (the partial one ``rewind``
    kept) and is replaced."""
    chunks = get_db().fs.chunks
    if pieces and replace_first:
        chunk = {"files_id": file_id, "n": first_number, "data": Binary(bytes(pieces[0]))}
        chunks.replace_one({"files_id": file_id, "n": first_number}, chunk, upsert=True)
        first_number, pieces = first_number + 1, pieces[1:]
    if pieces:
        chunks.insert_many(
            [
                {"files_id": file_id, "n": first_number + index, "data": Binary(bytes(piece))}
                for index, piece in enumerate(pieces)
            ],
            ordered=False,
        )


def write_file(file_id, length, filename, metadata):
    """The ``fs.files`` document, last, as media_file.store writes it (an upsert: a finish
    that is retried writes it again)."""
    get_db().fs.files.replace_one(
        {"_id": file_id},
        {
            "_id": file_id,
            "length": length,
            "chunkSize": CHUNK_SIZE,
            "uploadDate": utcnow(),
            "filename": filename,
            "metadata": {"contentType": "application/octet-stream", **metadata},
        },
        upsert=True,
    )


def sha256(file_id, length):
    """The sha256 of the whole file, read back chunk by chunk (hashlib's state cannot be
    kept between PATCHes, which may run on other hosts)."""
    digest, left = hashlib.sha256(), length
    for data in chunks_from(file_id, 0, length):
        digest.update(data[:left])
        left -= len(data)
    return digest.hexdigest()


def chunks_from(file_id, start, length):
    """The file's bytes from ``start`` to ``length``, a chunk at a time, a batch of chunks
    per query (memory bounded whatever the file's size)."""
    number = start // CHUNK_SIZE
    skip = start - number * CHUNK_SIZE
    last = (length - 1) // CHUNK_SIZE if length else -1
    while number <= last:
        upto = min(number + READ_BATCH_CHUNKS, last + 1)
        found = (
            get_db()
            .fs.chunks.find(
                {"files_id": file_id, "n": {"$gte": number, "$lt": upto}}, {"n": 1, "data": 1}
            )
            .sort("n", 1)
        )
        for chunk in found:
            if chunk["n"] != number:
                raise CorruptUpload(f"chunk {number} of upload file {file_id} is missing")
            yield bytes(chunk["data"][skip:])
            skip, number = 0, number + 1
        if number < upto:
            raise CorruptUpload(f"chunk {number} of upload file {file_id} is missing")


def read(file_id, start, size, length):
    """At most ``size`` bytes of the file from ``start`` (fewer at its end)."""
    end = min(start + size, length)
    if start >= end:
        return b""
    out = bytearray()
    for data in chunks_from(file_id, start, end):
        out += data[: end - start - len(out)]
        if len(out) >= end - start:
            break
    return bytes(out)


def delete(file_id):
    """Chunks first: a delete cut short leaves a files document, never orphan chunks."""
    database = get_db()
    database.fs.chunks.delete_many({"files_id": file_id})
    database.fs.files.delete_one({"_id": file_id})
