"""The ``watch_progress`` collection: where each user is in each video they watched.

One document per user and video, ``_id`` ``"<user id>:<video id>"``::

    {_id, user_id, video_id, position_seconds, duration, progress (0-1), finished,
     in_progress (started and not finished: what continue-watching lists),
     watched_seconds (the watch time credited for this user and video, a float),
     reports (a version: every write adds one), key_digest (the share key's digest a report
     of an unlisted video came with, or null), first_watched_at, updated_at, finished_at}

A report rewrites the document only if ``reports`` is still what it read
(``replace_if_unchanged``): of two reports that read the same document, one writes and the
other reads it again, so the same wall time is never credited twice (services.progress).

Pages (continue-watching, history) are newest-first by ``(updated_at, video_id)`` on the
user's own documents: the filter is the user (and ``in_progress``) with ``updated_at <=``
the previous page's end, on an index whose keys are exactly those, so MongoDB walks it in
order. The embedded server reads the user's matching documents before it limits: one user's
list, never the collection.
"""

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from models.common import as_utc
from models.db import get_db

NEWEST_FIRST = [("updated_at", DESCENDING), ("video_id", DESCENDING)]
# A page after a position also reads the documents of that position's own millisecond that
# come before it (the filter cannot say "same time, smaller id" without an $or no index
# serves); it reads this many more, and doubles when they are all of that millisecond.
TIE_SLACK = 20


def collection():
    return get_db().watch_progress


def create_indexes(database):
    entries = database.watch_progress
    entries.create_index(
        [
            ("user_id", ASCENDING),
            ("in_progress", ASCENDING),
            ("updated_at", DESCENDING),
            ("video_id", DESCENDING),
        ],
        name="continue_watching",
    )
    entries.create_index(
        [("user_id", ASCENDING), ("updated_at", DESCENDING), ("video_id", DESCENDING)],
        name="history",
    )
    # An account's progress: its export pages through it, its deletion removes it.
    entries.create_index([("user_id", ASCENDING), ("_id", ASCENDING)], name="user")


def entry_id(user_id, video_id):
    return f"{user_id}:{video_id}"


def find(user_id, video_id):
    return collection().find_one({"_id": entry_id(user_id, video_id)})


def insert_first(document):
    """Insert a user's first report of a video; False when another report inserted it first."""
    try:
        collection().insert_one(document)
    except DuplicateKeyError:
        return False
    return True


def replace_if_unchanged(previous, fields):
    """Set ``fields`` if no other report wrote since ``previous`` was read; True if this did."""
    result = collection().update_one(
        {"_id": previous["_id"], "reports": previous["reports"]},
        {"$set": fields, "$inc": {"reports": 1}},
    )
    return result.modified_count == 1


def page(user_id, limit, after=None, in_progress_only=False):
    """Up to ``limit`` of the user's entries after ``after`` (a models.keyset.Position of
    ``(updated_at, video_id)``), most recently watched first; only those in progress if
    ``in_progress_only``."""
    query = {"user_id": user_id}
    if in_progress_only:
        query["in_progress"] = True
    if after is None:
        return list(collection().find(query).sort(NEWEST_FIRST).limit(limit))
    query["updated_at"] = {"$lte": after.created_at}
    read = limit + TIE_SLACK
    while True:
        raw = list(collection().find(query).sort(NEWEST_FIRST).limit(read))
        later = [entry for entry in raw if key(entry) < (after.created_at, after.id)]
        if len(later) >= limit or len(raw) < read:
            return later[:limit]
        read *= 2


def key(entry):
    """An entry's place in the lists: ``(updated_at, video_id)``."""
    return as_utc(entry["updated_at"]), entry["video_id"]


def videos_of(entries):
    """The videos the entries are about, by id (one ``$in`` read on ``videos._id``); a video
    that no longer exists (purged) is missing."""
    ids = [entry["video_id"] for entry in entries]
    if not ids:
        return {}
    return {video["_id"]: video for video in get_db().videos.find({"_id": {"$in": ids}})}
