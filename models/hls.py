"""A video's HLS ladder as stored: its segments in GridFS, its key, its summary.

- Each segment is one GridFS file (``fs``, written by models.media_file.store) whose
  ``metadata`` is ``{video_id, role: "hls_segment", ladder, rendition, n, duration, iv,
  sha256}``; its bytes are already AES-128 encrypted.
- The ladder's key is in ``hls_keys`` ``{_id: ladder, video_id, key, created_at}``, and
  nowhere else: never on the video document (which listings, details and exports read),
  never in a log line.
- The video document's ``hls`` is the published ladder's summary (renditions, bandwidths);
  without it the video has no ladder.

Every attempt at a ladder has its own id (``ladder``), carried by each of its segments and
by its key, so the files of an attempt that failed, or whose job died, are found and
deleted by that id whatever else the video holds. Reading a ladder is models/hls_reads.py.
"""

from functools import partial

from bson import Binary
from pymongo import ASCENDING

from models import media_file
from models.common import utcnow
from models.db import get_db

ROLE = "hls_segment"
DELETE_BATCH = 500  # file ids per delete: a 2-hour, 3-rung ladder is about 3,600 files


def create_indexes(database):
    # One indexed find_one per segment request, one indexed find per media playlist.
    database.fs.files.create_index(
        [
            ("metadata.video_id", ASCENDING),
            ("metadata.ladder", ASCENDING),
            ("metadata.rendition", ASCENDING),
            ("metadata.n", ASCENDING),
        ],
        name="hls_segment",
        partialFilterExpression={"metadata.role": ROLE},
    )
    database.hls_keys.create_index([("video_id", ASCENDING)], name="video_id")


def segment_metadata(video_id, ladder, rendition, n, duration, iv, sha256):
    """The ``metadata`` of one stored segment (the contract P4's reads rely on)."""
    return {
        "video_id": video_id,
        "role": ROLE,
        "ladder": ladder,
        "rendition": rendition,
        "n": n,
        "duration": duration,
        "iv": iv,
        "sha256": sha256,
    }


def store_key(ladder, video_id, key):
    """Keep the 16-byte ``key`` of ``ladder``; stored before any segment it encrypts."""
    get_db().hls_keys.insert_one(
        {"_id": ladder, "video_id": video_id, "key": Binary(bytes(key)), "created_at": utcnow()}
    )


def publish(video_id, owner, summary):
    """A ladder job's outcome: the video's ``hls`` becomes ``summary``, if ``owner`` still
    holds the video's ladder lease (models.ladder_jobs); False, nothing written, if not."""
    result = get_db().videos.update_one(
        {"_id": video_id, "hls_job.lease_owner": owner},
        {"$set": {"hls": summary, "updated_at": utcnow()}, "$unset": {"hls_job": ""}},
    )
    return result.matched_count == 1


def delete_ladder(video_id, *ladders):
    """Delete the segments and key of each of ``video_id``'s ``ladders`` (None skipped).

    Called after a failure, which is often the database going away: then the delete is
    retried in the background until it answers (media_file.deleted_or_retried), since a ladder
    that failed leaves no later attempt to find its files."""
    database = get_db()
    for ladder in ladders:
        if ladder is not None:
            delete = partial(_delete_ladder, database, video_id, ladder)
            media_file.deleted_or_retried(delete, f"HLS ladder {ladder}", "ladder-cleanup")


def delete_video_ladders(video_id, keep=None):
    """Delete every ladder of ``video_id`` but ``keep`` (the published one, if any): a
    purge (keep None), or a new attempt removing what a killed job left. Only the job that
    holds the video's lease calls it with ``keep``, so no live attempt is removed."""
    database = get_db()
    # Read by video (the files_of_video index), the kept ladder left out here: "$ne" is a scan.
    found = database.fs.files.find(
        {"metadata.video_id": video_id, "metadata.role": ROLE}, {"metadata.ladder": 1}
    )
    doomed = [document["_id"] for document in found if document["metadata"]["ladder"] != keep]
    for start in range(0, len(doomed), DELETE_BATCH):
        media_file.delete_files(database, doomed[start : start + DELETE_BATCH])
    keys = database.hls_keys.find({"video_id": video_id}, {"_id": 1})
    doomed_keys = [document["_id"] for document in keys if document["_id"] != keep]
    if doomed_keys:
        database.hls_keys.delete_many({"_id": {"$in": doomed_keys}})


def _delete_ladder(database, video_id, ladder):
    files = {"metadata.video_id": video_id, "metadata.role": ROLE, "metadata.ladder": ladder}
    _delete(database, files, {"_id": ladder})


def _delete(database, files, keys):
    """The segment files matching ``files`` (chunks first), then the keys matching ``keys``.

    Chunks go before their files document, as media_file does: a delete cut short leaves
    a files document that a later delete by the same query still finds."""
    while True:
        found = database.fs.files.find(files, {"_id": 1}).limit(DELETE_BATCH)
        ids = [document["_id"] for document in found]
        if not ids:
            break
        media_file.delete_files(database, ids)
    database.hls_keys.delete_many(keys)
