"""The ``recent_views`` collection: when a user's view of a video last counted.

One document per user and video (``_id`` ``"<user id>:<video id>"``), so the unique ``_id``
index decides races between workers: a view counts when the document is missing (the insert
wins) or when its ``counted_at`` is at least a window old (the conditional update wins). Two
views of one user and video therefore count at least a window apart, wherever the window
falls. Entries remove themselves (TTL) once their window has passed: a missing entry and a
stale one mean the same.
"""

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from models.common import utcnow
from models.db import get_db


def collection():
    return get_db().recent_views


def create_indexes(database):
    database.recent_views.create_index(
        [("expires_at", ASCENDING)], expireAfterSeconds=0, name="expires_at_ttl"
    )
    # An account's views: its export pages through them, its deletion removes them.
    database.recent_views.create_index([("user_id", ASCENDING), ("_id", ASCENDING)], name="user")


def count_if_due(user_id, video_id, window):
    """True when this view counts: none of ``user_id``'s views of ``video_id`` counted within
    ``window`` before now. Then now is recorded as the last counted one."""
    now = utcnow()
    entry_id = f"{user_id}:{video_id}"
    counted = {"counted_at": now, "expires_at": now + window}
    # _id equality finds the one document; counted_at is then checked on it.
    renewed = collection().update_one(
        {"_id": entry_id, "counted_at": {"$lte": now - window}}, {"$set": counted}
    )
    if renewed.modified_count == 1:
        return True
    try:
        collection().insert_one(
            {"_id": entry_id, "user_id": user_id, "video_id": video_id, **counted}
        )
    except DuplicateKeyError:
        return False  # counted within the window (or just now, by a concurrent request)
    return True
