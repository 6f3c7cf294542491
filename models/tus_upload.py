"""Resumable (tus) uploads: one ``tus_uploads`` document per upload (docs/uploads.md).

The document is the truth about an upload: its ``offset`` says how many bytes are stored, and
its chunks in GridFS (models/tus_chunks.py) are trusted only up to it. A PATCH holds the
upload's lease (``lease_token`` until ``lease_until``), taken by a compare-and-set on the
offset: gunicorn runs several processes, on several hosts, so no Python lock could do.
Every write of a lease holder names its token, so a holder whose lease ran out (a stalled
client, a dead process) changes nothing once another PATCH took over.
"""

import secrets
from datetime import timedelta

from bson import ObjectId

from models.common import utcnow
from models.db import get_db

# A PATCH renews its lease at every batch of chunks it stores (~4 MB); a client stalled this
# long loses it, and a process that died frees its uploads this long after.
LEASE = timedelta(seconds=60)


def collection():
    return get_db().tus_uploads


def create(owner_id, length, fields, filename, expires_at):
    now = utcnow()
    document = {
        "_id": ObjectId(),
        "owner_id": owner_id,
        "length": length,
        "offset": 0,
        "fields": fields,
        "filename": filename,
        "file_id": ObjectId(),  # the GridFS file its chunks belong to
        "created_at": now,
        "expires_at": expires_at,
        "lease_token": None,
        "lease_until": now,
        "video_id": None,  # set by the PATCH that finishes it
    }
    collection().insert_one(document)
    return document


def find(upload_id):
    return collection().find_one({"_id": upload_id})


def take_lease(upload_id, offset=None):
    """The lease on an unfinished, unexpired upload whose offset is ``offset`` (any offset:
    None): its token, or None when another PATCH holds it or the offset moved (409)."""
    now, token = utcnow(), secrets.token_hex(16)
    query = {
        "_id": upload_id,
        "video_id": None,
        "expires_at": {"$gt": now},
        "$or": [{"lease_token": None}, {"lease_until": {"$lt": now}}],
    }
    if offset is not None:
        query["offset"] = offset
    taken = collection().update_one(
        query, {"$set": {"lease_token": token, "lease_until": now + LEASE}}
    )
    return token if taken.modified_count == 1 else None


def renew(upload_id, token):
    """Whether ``token`` still holds the lease (renewed for another LEASE)."""
    renewed = collection().update_one(
        {"_id": upload_id, "lease_token": token},
        {"$set": {"lease_until": utcnow() + LEASE}},
    )
    return renewed.matched_count == 1


def advance(upload_id, token, offset, new_offset, complete=False):
    """Move the offset from ``offset`` to ``new_offset`` (chunks written first); whether the
    lease was still ours. ``complete``: every byte is stored (``stranded`` finds it if the
    process dies before the video is made)."""
    changes = {"offset": new_offset, "lease_until": utcnow() + LEASE}
    if complete:
        changes["complete"] = True
    moved = collection().update_one(
        {"_id": upload_id, "lease_token": token, "offset": offset}, {"$set": changes}
    )
    return moved.matched_count == 1


def release(upload_id, token):
    collection().update_one(
        {"_id": upload_id, "lease_token": token}, {"$set": {"lease_token": None}}
    )


def plan_video(upload_id, token, video_id):
    """Name the video a finishing upload becomes before it is inserted, so a finish that
    is retried (a crash between the two) finds it rather than making a second one."""
    collection().update_one(
        {"_id": upload_id, "lease_token": token, "planned_video_id": None},
        {"$set": {"planned_video_id": video_id}},
    )
    return collection().find_one({"_id": upload_id}, {"planned_video_id": 1})["planned_video_id"]


def finished(upload_id, token, video_id):
    collection().update_one(
        {"_id": upload_id, "lease_token": token},
        {"$set": {"video_id": video_id, "lease_token": None}},
    )


def delete(upload_id):
    collection().delete_one({"_id": upload_id})


def expired(limit):
    """Uploads past their expiry that no live PATCH holds, oldest first (the sweep's)."""
    now = utcnow()
    cursor = collection().find({"expires_at": {"$lte": now}}).sort("expires_at", 1)
    # The lease is checked here: an $or would keep the query off its index.
    return [
        u for u in cursor.limit(limit) if u.get("lease_token") is None or u["lease_until"] < now
    ]


def stranded(limit):
    """Complete uploads no video was made of, that no live PATCH holds: their last PATCH's
    process died between storing the bytes and making the video (the sweep finishes them)."""
    now = utcnow()
    query = {"complete": True, "video_id": None, "expires_at": {"$gt": now}}
    found = collection().find(query).limit(limit)  # few: their lease is checked here
    return [u for u in found if u.get("lease_token") is None or u["lease_until"] < now]


def create_indexes(database):
    database.tus_uploads.create_index(
        [("complete", 1), ("video_id", 1), ("expires_at", 1)],
        partialFilterExpression={"complete": True},
    )
    database.tus_uploads.create_index([("expires_at", 1)])
    database.tus_uploads.create_index([("owner_id", 1)])
