"""The ``playback_views`` collection: which playback sessions (tokens) have played.

Only a token's first play may count a view, however many range requests its
player makes (whether it does also depends on models.recent_view). The token's
``jti`` is the document's ``_id``, so the unique ``_id`` index decides races
between workers: the first insert wins, every later one is a duplicate.
Entries remove themselves (TTL) once their token has expired and can no longer
be used.
"""

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from models.common import utcnow
from models.db import get_db


def collection():
    return get_db().playback_views


def create_indexes(database):
    database.playback_views.create_index(
        [("expires_at", ASCENDING)], expireAfterSeconds=0, name="expires_at_ttl"
    )
    # An account's views: its export pages through them, its deletion removes them.
    database.playback_views.create_index([("user_id", ASCENDING), ("_id", ASCENDING)], name="user")


def first_use(token_id, video_id, user_id, expires_at):
    """Record a playback session's first play; True only the first time ``token_id`` is seen."""
    try:
        collection().insert_one(
            {
                "_id": token_id,
                "video_id": video_id,
                "user_id": user_id,
                "created_at": utcnow(),
                "expires_at": expires_at,
            }
        )
    except DuplicateKeyError:
        return False
    return True
