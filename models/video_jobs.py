"""The processing lease of a video, its stage and progress, and what a dead job left behind.

A video ``processing`` with ``lease_until`` null or past is a queue entry: a job claims it
by setting ``lease_until`` and ``lease_owner`` (a token no other claim shares) in one
conditional update, and only that owner may renew the lease, report progress or write the
outcome. ``stage`` and ``progress`` say how far the holder got, for ``GET /video/{id}/status``.
"""

from datetime import timedelta

from pymongo import ASCENDING

from models.common import utcnow
from models.db import get_db
from models.video import PROCESSING, collection

# The files a processing job makes for a video (the source is the upload's, not the job's).
MADE_ROLES = ("media", "thumbnail")


def create_indexes(database):
    # Finds a video's files for the clean-up at the start of each job, without a scan.
    database.fs.files.create_index(
        [("metadata.video_id", ASCENDING), ("metadata.role", ASCENDING)], name="files_of_video"
    )


def lease_length(seconds):
    return timedelta(seconds=seconds)


def claim_for_processing(video_id, lease, owner):
    """Take the processing lease of one video for ``owner``; False when someone else holds it."""
    now = utcnow()
    result = collection().update_one(
        {
            "_id": video_id,
            "status": PROCESSING,
            "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}],
        },
        {"$set": {"lease_until": now + lease, "lease_owner": owner}},
    )
    return result.modified_count == 1


def _held_by(video_id, owner):
    return {"_id": video_id, "status": PROCESSING, "lease_owner": owner}


def renew_lease(video_id, lease, owner):
    """Extend ``owner``'s lease; False when the lease is no longer theirs (it ran out and
    another process claimed the video, or the video is no longer processing)."""
    result = collection().update_one(
        _held_by(video_id, owner), {"$set": {"lease_until": utcnow() + lease}}
    )
    return result.matched_count == 1


def release_lease(video_id, owner):
    """Put the video back in the queue at once (a worker stopping mid-job): True if it was
    ``owner``'s. The next claim starts it again; no need to wait for the lease to run out."""
    result = collection().update_one(
        _held_by(video_id, owner), {"$set": {"lease_until": None, "lease_owner": None}}
    )
    return result.matched_count == 1


def report_progress(video_id, owner, stage, progress):
    """Record the holder's ``stage`` and ``progress`` (0-1). ``$max``: a job that starts over
    after another died never makes the bar go back. False when the lease is not ``owner``'s."""
    result = collection().update_one(
        _held_by(video_id, owner), {"$set": {"stage": stage}, "$max": {"progress": progress}}
    )
    return result.matched_count == 1


def finish_processing(video_id, owner, **fields):
    """Record the outcome (``status`` ready or failed) only if ``owner`` still holds the lease,
    in one conditional update: a holder that lost it can never overwrite the new holder's work.
    False when the lease was not theirs."""
    fields.update(lease_until=None, lease_owner=None, stage=None, progress=None)
    fields["updated_at"] = utcnow()
    result = collection().update_one(_held_by(video_id, owner), {"$set": fields})
    return result.matched_count == 1


def abandoned(limit=20):
    """Videos still processing with no lease (queued), or whose lease ran out (their process
    died), oldest lease first within each kind.

    Two queries, each served by the ``processing`` index: an ``$or`` of the two is not, on the
    embedded server, and the sweep runs every 30 s in every process.
    """
    found = []
    for lease in (None, {"$lt": utcnow()}):
        if len(found) < limit:
            query = {"status": PROCESSING, "lease_until": lease}
            cursor = collection().find(query, {"_id": 1}).limit(limit - len(found))
            found += [document["_id"] for document in cursor]
    return found


def leftover_files(video):
    """Ids of the files an earlier job made for ``video`` that it does not reference: a job
    killed between storing its rendition and writing the outcome leaves them. Only the lease
    holder calls this, so no live job is still making them."""
    kept = {video.get(field) for field in ("source_file_id", "media_file_id", "thumbnail_file_id")}
    found = get_db().fs.files.find(
        {"metadata.video_id": video["_id"], "metadata.role": {"$in": list(MADE_ROLES)}},
        {"_id": 1},
    )
    return [document["_id"] for document in found if document["_id"] not in kept]
