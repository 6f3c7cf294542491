"""Ladder jobs: the HLS ladder made for a video that is already ``ready`` (the backfill).

A ready video of kind ``video`` with no ``hls`` is queued by giving it ``hls_job: {state:
"pending", lease_until: None, lease_owner: None}``; a job claims it as processing is claimed
(models.video's lease functions): one conditional update on the lease, renewed by a
heartbeat, and only the holder's update may end it. The job ends with ``hls`` published and
``hls_job`` gone (models.hls.publish), or with ``hls_job.state`` ``failed`` and its reason,
which is never queued again (a ladder that fails once would fail at every start-up).
"""

from pymongo import ASCENDING

from models import hls as ladders
from models.common import utcnow
from models.db import get_db

PENDING, FAILED = "pending", "failed"
# A ready video that could have a ladder and has none (``hls.ladder`` rather than ``hls``: the
# index holds an id, not the whole summary).
WITHOUT_LADDER = {"status": "ready", "kind": "video", "hls.ladder": None}


def collection():
    return get_db().videos


def create_indexes(database):
    # The queue: the start-up's videos without a ladder nor a job, then the pending jobs by
    # lease, for the sweep and the workers' claims.
    database.videos.create_index(
        [(field, ASCENDING) for field in (*WITHOUT_LADDER, "hls_job.state", "hls_job.lease_until")],
        name="ladder_jobs",
    )


def queue_missing_ladders(database):
    """Start-up: every ready video without a ladder, nor a job for one, gets a pending job.

    Idempotent (it only matches videos with no ``hls_job``), so every process that starts
    may run it, together: a video is queued once, and a video whose ladder failed stays as
    it is. Served by the ``ladder_jobs`` index, like the queue itself."""
    # Dotted fields, not one subdocument: mongomock's update_many gives every document it
    # matches the same dict, and a claim of one would then claim them all.
    job = {"hls_job.state": PENDING, "hls_job.lease_until": None, "hls_job.lease_owner": None}
    result = database.videos.update_many({**WITHOUT_LADDER, "hls_job.state": None}, {"$set": job})
    return result.modified_count


def pending(limit=20):
    """Ids of ready videos whose ladder job is queued (no lease) or abandoned (lease expired);
    two queries, each on the ``ladder_jobs`` index (as models.video.abandoned)."""
    found = []
    for lease in (None, {"$lt": utcnow()}):
        if len(found) < limit:
            query = {**WITHOUT_LADDER, "hls_job.state": PENDING, "hls_job.lease_until": lease}
            cursor = collection().find(query, {"_id": 1}).limit(limit - len(found))
            found += [document["_id"] for document in cursor]
    return found


def claim(video_id, lease, owner):
    """Take the ladder lease of ``video_id`` for ``owner``; False when another job holds it
    or there is no pending ladder job (made, failed, or the video was purged)."""
    now = utcnow()
    result = collection().update_one(
        {
            "_id": video_id,
            "status": "ready",
            "hls_job.state": PENDING,
            "$or": [{"hls_job.lease_until": None}, {"hls_job.lease_until": {"$lt": now}}],
        },
        {"$set": {"hls_job.lease_until": now + lease, "hls_job.lease_owner": owner}},
    )
    return result.modified_count == 1


def _held_by(video_id, owner):
    return {"_id": video_id, "hls_job.state": PENDING, "hls_job.lease_owner": owner}


def renew(video_id, lease, owner):
    result = collection().update_one(
        _held_by(video_id, owner), {"$set": {"hls_job.lease_until": utcnow() + lease}}
    )
    return result.matched_count == 1


def release(video_id, owner):
    """Back to the queue at once (a stopping worker); True if it was ``owner``'s."""
    result = collection().update_one(
        _held_by(video_id, owner),
        {"$set": {"hls_job.lease_until": None, "hls_job.lease_owner": None}},
    )
    return result.matched_count == 1


def report_progress(video_id, owner, stage, progress):
    """How far the holder is (a ready video's status shows no stage: this is for operators);
    False when the lease is not ``owner``'s."""
    result = collection().update_one(
        _held_by(video_id, owner),
        {"$set": {"hls_job.stage": stage}, "$max": {"hls_job.progress": progress}},
    )
    return result.matched_count == 1


def finish(video_id, owner, hls=None, hls_job=None):
    """End the holder's job: ``hls`` published, or ``hls_job`` (its failure) recorded; False
    if the lease was not ``owner``'s (nothing written)."""
    if hls is not None:
        return ladders.publish(video_id, owner, hls)
    if hls_job:
        change = {"$set": {"hls_job": hls_job, "updated_at": utcnow()}}
    else:  # nothing to make (HLS_MAX_RENDITIONS=0): no job left; a later start-up queues one
        change = {"$unset": {"hls_job": ""}, "$set": {"updated_at": utcnow()}}
    result = collection().update_one(_held_by(video_id, owner), change)
    return result.matched_count == 1
