"""Daily counters of engagement: one small document per video and day, updated as events
happen, so an analytics span of N days reads N documents per video, never the events.

A counter document (collection ``video_days``)::

    {_id: "<video id>:<YYYY-MM-DD>", video_id, owner_id, day: "YYYY-MM-DD",
     views, unique_viewers, watch_seconds, likes, dislikes, completions}

``add`` increments any of the counters with one upsert ($inc), and the same increments on
two roll-ups: the owner's day (``owner_days``, ``_id`` ``"<owner id>:<day>"``) and the
platform's day (``platform_days``, ``_id`` the day). So a creator's or the platform's series
over N days reads N documents, whatever the number of videos (docs/analytics.md). Watch time
also goes to the video document's all-time ``watch_seconds`` (beside its all-time ``views``,
models.video.add_view): a creator's top videos read those, not the days.

Unique viewers are counted through ``video_day_viewers``: one document per (video, day, user)
under its ``_id``; the insert that creates it is the one that increments ``unique_viewers``,
so a user counts once per video and day however many workers see the view at once. Those
entries are only needed while their day can still change: they expire (TTL) after
``VIEWER_ENTRY_DAYS``. ``completions`` counts the users who first passed 90% of the video
that day (the progress side increments it); ``completion_rate`` is completions / views.
"""

from datetime import UTC, datetime, timedelta

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from models.db import get_db

COUNTERS = ("views", "unique_viewers", "watch_seconds", "likes", "dislikes", "completions")
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
    database.owner_days.create_index(
        [("owner_id", ASCENDING), ("day", ASCENDING)], name="owner_day"
    )
    database.video_day_viewers.create_index(
        [("created_at", ASCENDING)],
        name="expire",
        expireAfterSeconds=VIEWER_ENTRY_DAYS * 24 * 3600,
    )


def day_of(moment):
    """The UTC day of ``moment`` as ``YYYY-MM-DD``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d")


def add(video_id, owner_id, moment, **increments):
    """Add ``increments`` (counter name -> int) to the video's counters of ``moment``'s day,
    and to its owner's and the platform's counters of that day."""
    unknown = set(increments) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown counters: {sorted(unknown)}")
    day = day_of(moment)
    inc = {name: int(value) for name, value in increments.items()}
    database = get_db()
    database.video_days.update_one(
        {"_id": f"{video_id}:{day}"},
        {"$inc": inc, "$setOnInsert": {"video_id": video_id, "owner_id": owner_id, "day": day}},
        upsert=True,
    )
    database.owner_days.update_one(
        {"_id": f"{owner_id}:{day}"},
        {"$inc": inc, "$setOnInsert": {"owner_id": owner_id, "day": day}},
        upsert=True,
    )
    database.platform_days.update_one({"_id": day}, {"$inc": inc}, upsert=True)
    if inc.get("watch_seconds"):
        # The video's all-time watch time, beside its all-time ``views`` (models.video): what
        # a creator's top videos show without reading their days (platform_stats.top_videos).
        database.videos.update_one(
            {"_id": video_id}, {"$inc": {"watch_seconds": inc["watch_seconds"]}}
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


# The reads: each one query over the span's days, served by an index (docs/analytics.md).
def _by_day(cursor):
    return {document["day"]: document for document in cursor}


def video_series(video_id, first_day, last_day):
    """{day: counters} of one video over the span (``video_day``: at most one per day)."""
    span = {"$gte": first_day, "$lte": last_day}
    return _by_day(collection().find({"video_id": video_id, "day": span}))


def owner_series(owner_id, first_day, last_day):
    """{day: counters} of all the owner's videos together (``owner_days``: one per day)."""
    span = {"$gte": first_day, "$lte": last_day}
    return _by_day(get_db().owner_days.find({"owner_id": owner_id, "day": span}))


def platform_series(first_day, last_day):
    """{day: counters} of every video together (``platform_days``: one per day, by _id)."""
    found = get_db().platform_days.find({"_id": {"$gte": first_day, "$lte": last_day}})
    return {document["_id"]: document for document in found}
