"""Reading everything stored about one account, page by page, for its export.

Each kind of record is read in ``_id`` order, a page at a time, with an index on
(field naming the user, ``_id``) serving every page: a user with many videos or views
costs many small queries, never one unbounded read held in memory.
"""

from pymongo import ASCENDING

from models.db import get_db

PAGE = 100

# (collection, field naming the user, fields left out). The GridFS ids and the lease are
# internals; the keywords are derived from the title, tags and description.
EXPORTED = {
    "sessions": (
        "sessions",
        "user_id",
        {"refresh_jti": 0, "rotated_to": 0, "rotated_from": 0, "rotated_at": 0},
    ),
    "videos": (
        "videos",
        "owner_id",
        {
            "source_file_id": 0,
            "media_file_id": 0,
            "thumbnail_file_id": 0,
            "lease_owner": 0,
            "lease_until": 0,
            "keywords": 0,
            "hls_job": 0,  # a ladder job's lease and state
        },
    ),
    "playback_views": ("playback_views", "user_id", {}),
    "recent_views": ("recent_views", "user_id", {}),
    "purchases": ("purchases", "user_id", {"holding": 0}),
    "progress": ("watch_progress", "user_id", {"reports": 0, "key_digest": 0}),
    "subscriptions": (
        "subscriptions",
        "user_id",
        {"holding": 0, "lease_owner": 0, "lease_until": 0},
    ),
    "reactions": ("reactions", "user_id", {}),  # its index is models.reaction's
}


def create_indexes(database):
    """The (user, _id) indexes the pages need (playback and recent views have theirs)."""
    database.sessions.create_index([("user_id", ASCENDING), ("_id", ASCENDING)], name="user_id")
    database.videos.create_index([("owner_id", ASCENDING), ("_id", ASCENDING)], name="owner_id")
    for name in ("purchases", "subscriptions"):
        database[name].create_index([("user_id", ASCENDING), ("_id", ASCENDING)], name="user_id")


def records(kind, user_id):
    """Every record of ``kind`` (a key of EXPORTED) that names ``user_id``, in ``_id`` order."""
    page = PAGE
    name, field, left_out = EXPORTED[kind]
    query = {field: user_id}
    while True:
        found = list(
            get_db()[name].find(query, left_out or None).sort("_id", ASCENDING).limit(page)
        )
        if not found:
            return
        last = found[-1]["_id"]  # read before the caller may reshape the documents
        yield from found
        if len(found) < page:
            return
        query = {field: user_id, "_id": {"$gt": last}}
