"""The ``reactions`` collection, and the reaction counts on the videos (docs/engagement.md).

One document per user and video, ``_id`` ``"<user id>:<video id>"``, with ``value`` ``like``
or ``dislike``; no document means no reaction. The unique ``_id`` makes "one per user and
video" the database's rule, not a lookup's.

A change (``change``) is decided by one conditional write that names the value it replaces
(insert when there is none, update or delete only ``{_id, value: old}``): when another
request changed the reaction in between, the write matches nothing (or the insert meets
the ``_id``) and the change is read and tried again. So the previous value each change
returns is the one the database replaced, and the counts moved by it (``move_counts``) add
up to the stored reactions however many requests race.
"""

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from models.common import utcnow
from models.db import get_db

LIKE, DISLIKE = "like", "dislike"
VALUES = (LIKE, DISLIKE)
COUNTERS = {LIKE: "likes", DISLIKE: "dislikes"}
# Each lost race means another change won, so this bounds nothing a real race reaches.
MAX_ATTEMPTS = 200


class ChangeContended(RuntimeError):
    """A change lost MAX_ATTEMPTS races in a row."""


def collection():
    return get_db().reactions


def create_indexes(database):
    # An account's reactions: its export pages through them, its deletion clears them.
    database.reactions.create_index([("user_id", ASCENDING), ("_id", ASCENDING)], name="user")
    # A video's reactions by value: the recount, and their removal with the video.
    database.reactions.create_index(
        [("video_id", ASCENDING), ("value", ASCENDING)], name="video_value"
    )


def entry_id(user_id, video_id):
    return f"{user_id}:{video_id}"


def value_of(user_id, video_id):
    """``user_id``'s reaction to ``video_id`` (``like``, ``dislike``) or None."""
    found = collection().find_one({"_id": entry_id(user_id, video_id)}, {"value": 1})
    return found["value"] if found else None


def values_of(user_id, video_ids):
    """``{video id: value}`` of ``user_id``'s reactions among ``video_ids``: one query."""
    if not video_ids:
        return {}
    ids = [entry_id(user_id, video_id) for video_id in video_ids]
    found = collection().find({"_id": {"$in": ids}}, {"video_id": 1, "value": 1})
    return {document["video_id"]: document["value"] for document in found}


def change(user_id, video_id, value):
    """Make ``user_id``'s reaction to ``video_id`` ``value`` (None: no reaction); the value
    it replaced, as the database saw it when the change was written."""
    key = entry_id(user_id, video_id)
    for _ in range(MAX_ATTEMPTS):
        current = collection().find_one({"_id": key}, {"value": 1})
        old = current["value"] if current else None
        if old == value or _replaced(key, user_id, video_id, old, value):
            return old
    raise ChangeContended(f"reaction {key} lost {MAX_ATTEMPTS} races")


def _replaced(key, user_id, video_id, old, value):
    """One conditional write from ``old`` to ``value``; False when it lost a race."""
    now = utcnow()
    if old is None:
        document = {"_id": key, "user_id": user_id, "video_id": video_id, "value": value}
        try:
            collection().insert_one({**document, "created_at": now, "updated_at": now})
        except DuplicateKeyError:
            return False
        return True
    if value is None:
        return collection().delete_one({"_id": key, "value": old}).deleted_count == 1
    moved = collection().update_one(
        {"_id": key, "value": old}, {"$set": {"value": value, "updated_at": now}}
    )
    return moved.modified_count == 1


def deltas(old, new):
    """``{counter: +1/-1}`` that a change from ``old`` to ``new`` makes (empty: none)."""
    moved = {}
    if old is not None:
        moved[COUNTERS[old]] = -1
    if new is not None:
        moved[COUNTERS[new]] = moved.get(COUNTERS[new], 0) + 1
    return {name: step for name, step in moved.items() if step}


def move_counts(video_id, increments):
    """Add ``increments`` (``likes``/``dislikes`` -> int) to the video's counts."""
    if increments:
        get_db().videos.update_one({"_id": video_id}, {"$inc": increments})


def counts(video_id):
    """The video's ``(likes, dislikes)`` as its document holds them (0 before any)."""
    found = get_db().videos.find_one({"_id": video_id}, {"likes": 1, "dislikes": 1}) or {}
    return found.get("likes", 0), found.get("dislikes", 0)


def stored_counts(video_id):
    """The video's ``(likes, dislikes)`` counted from the stored reactions."""
    return tuple(
        collection().count_documents({"video_id": video_id, "value": value}) for value in VALUES
    )


def set_counts(video_id, likes, dislikes):
    get_db().videos.update_one({"_id": video_id}, {"$set": {"likes": likes, "dislikes": dislikes}})


def of_user(user_id, limit):
    """Up to ``limit`` of ``user_id``'s reactions (``_id`` order, the ``user`` index)."""
    found = collection().find({"user_id": user_id}).sort("_id", ASCENDING).limit(limit)
    return list(found)


def remove_of_video(video_id):
    """Every reaction to ``video_id``: the video is gone for good."""
    return collection().delete_many({"video_id": video_id}).deleted_count
