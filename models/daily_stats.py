"""Daily counters of engagement: one small document per video and day, updated as events
happen, so an analytics span of N days reads N documents per video, never the events.

A counter document (collection ``video_days``)::

    {_id: "<video id>:<YYYY-MM-DD>", video_id, owner_id, day: "YYYY-MM-DD",
     views, unique_viewers, watch_seconds, likes, dislikes}

``add`` increments any of the counters with one upsert ($inc). Unique viewers are counted
through ``video_day_viewers``: one document per (video, day, user) under its ``_id``; the
insert that creates it is the one that increments ``unique_viewers``, so a user counts once
per video and day however many workers see the view at once. Those entries are only needed
while their day can still change: they expire (TTL) after ``VIEWER_ENTRY_DAYS``.
"""

from datetime import UTC, datetime, timedelta

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from models.db import get_db

COUNTERS = ("views", "unique_viewers", "watch_seconds", "likes", "dislikes")
VIEWER_ENTRY_DAYS = 2


def collection():
    return get_db().video_days


def create_indexes(database):
    database.video_days.create_index(
        [("video_id", ASCENDING), ("day", ASCENDING)], name="video_day"
    )
    database.video_days.create_index(
        [("owner_id", ASCENDING), ("day", ASCENDING)], name="owner_day"
    )
    database.video_days.create_index([("day", ASCENDING)], name="day")
    database.video_day_viewers.create_index(
        [("created_at", ASCENDING)],
        name="expire",
        expireAfterSeconds=VIEWER_ENTRY_DAYS * 24 * 3600,
    )


def day_of(moment):
    """The UTC day of ``moment`` as ``YYYY-MM-DD``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def add(video_id, owner_id, moment, **increments):
    """Add ``increments`` (counter name -> int) to the video's counters of ``moment``'s day."""
    unknown = set(increments) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown counters: {sorted(unknown)}")
    day = day_of(moment)
    collection().update_one(
        {"_id": f"{video_id}:{day}"},
        {
            "$inc": {name: int(value) for name, value in increments.items()},
            "$setOnInsert": {"video_id": video_id, "owner_id": owner_id, "day": day},
        },
        upsert=True,
    )


def count_viewer(video_id, owner_id, user_id, moment):
    """Count ``user_id`` among the video's unique viewers of ``moment``'s day, once; True if
    this call counted them."""
    day = day_of(moment)
    try:
        get_db().video_day_viewers.insert_one(
            {"_id": f"{video_id}:{day}:{user_id}", "created_at": datetime.now(UTC)}
        )
    except DuplicateKeyError:
        return False
    add(video_id, owner_id, moment, unique_viewers=1)
    return True


def days_between(first, last):
    """Every ``YYYY-MM-DD`` from ``first`` to ``last`` (dates), both included."""
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
