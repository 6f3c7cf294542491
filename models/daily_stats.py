"""Daily counters of engagement: one small document per video and day, updated as events
happen, and monthly roll-ups of the same days that the reports read, so a span of N days
reads at most N / 28 + 1 documents per series, never the events.

A counter document (collection ``video_days``)::

    {_id: "<video id>:<YYYY-MM-DD>", video_id, owner_id, day: "YYYY-MM-DD",
     views, unique_viewers, watch_seconds, likes, dislikes, completions}

``add`` increments any of the counters ($inc, upserted), and the same increments on the day's
entry of three monthly roll-ups: the video's month (``video_months``, ``_id``
``"<video id>:<YYYY-MM>"``), the owner's (``owner_months``, ``"<owner id>:<YYYY-MM>"``) and
the platform's (``platform_months``, ``_id`` the month)::

    {_id, video_id | owner_id, month: "YYYY-MM", days: {"DD": {views, ..., completions}}}

A report of a video, a creator or the platform over a 366-day span reads 13 of those, whatever
the number of videos or events (docs/analytics.md#what-each-read-costs): on the embedded
server a document fetched costs far more than its size (366 day documents: 31 ms; 13 months:
5 ms). Watch time also goes to the video document's all-time
``watch_seconds`` (beside its all-time ``views``, models.video.add_view): a creator's top
videos read those. None of these is written by ``add`` itself: it hands them to the process's
buffer (models.counter_buffer), which merges them and writes them in bulk about every second;
whatever reads the counters calls ``flush`` first.

Unique viewers are counted through ``video_day_viewers``: one document per (video, day, user)
under its ``_id``; the insert that creates it is the one that increments ``unique_viewers``,
so a user counts once per video and day however many workers see the view at once. Those
entries are only needed while their day can still change: they expire (TTL) after
``VIEWER_ENTRY_DAYS``. ``completions`` counts the users who first passed 90% of the video
that day (the progress side increments it); ``completion_rate`` is completions / views.
"""

from datetime import UTC, datetime, timedelta

from flask import current_app
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from models.counter_buffer import CounterBuffer
from models.db import get_db

COUNTERS = ("views", "unique_viewers", "watch_seconds", "likes", "dislikes", "completions")
VIEWER_ENTRY_DAYS = 2
FLUSH_BEFORE_READ_SECONDS = 2.0


def collection():
    return get_db().video_days


def create_indexes(database):
    database.video_days.create_index(
        [("video_id", ASCENDING), ("day", ASCENDING)], name="video_day"
    )
    database.video_months.create_index(
        [("video_id", ASCENDING), ("month", ASCENDING)], name="video_month"
    )
    database.owner_months.create_index(
        [("owner_id", ASCENDING), ("month", ASCENDING)], name="owner_month"
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
    and to that day in the video's, its owner's and the platform's month."""
    unknown = set(increments) - set(COUNTERS)
    if unknown:
        raise ValueError(f"unknown counters: {sorted(unknown)}")
    day = day_of(moment)
    month = day[:7]
    inc = {name: int(value) for name, value in increments.items()}
    in_month = {f"days.{day[8:]}.{name}": value for name, value in inc.items()}
    counters = current_app.extensions["counters"]
    fields = {"video_id": video_id, "owner_id": owner_id, "day": day}
    counters.add("video_days", f"{video_id}:{day}", inc, fields)
    for name, key, fields in (
        ("video_months", f"{video_id}:{month}", {"video_id": video_id, "month": month}),
        ("owner_months", f"{owner_id}:{month}", {"owner_id": owner_id, "month": month}),
        ("platform_months", month, {"month": month}),
    ):
        counters.add(name, key, in_month, fields)
    if inc.get("watch_seconds"):
        # The video's all-time watch time, beside its all-time ``views`` (models.video): what
        # a creator's top videos show without reading their days (platform_stats.top_videos).
        # No upsert: a video gone for good gets no document back.
        counters.add("videos", video_id, {"watch_seconds": inc["watch_seconds"]}, upsert=False)


def register(app):
    """The app's buffer of counter increments (models.counter_buffer)."""
    app.extensions["counters"] = CounterBuffer(app)


def flush():
    """Write this process's pending increments before a read of the counters (a bounded
    wait: a report answers even while they cannot be written)."""
    current_app.extensions["counters"].flush(FLUSH_BEFORE_READ_SECONDS)


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


# The reads: each one query over the span's months, served by an index (docs/analytics.md).
def _by_day(months, first_day, last_day):
    """{day: counters} of the span's days found in these month documents."""
    found = {}
    for document in months:
        for number, counters in (document.get("days") or {}).items():
            day = f"{document['month']}-{number}"
            if first_day <= day <= last_day:
                found[day] = counters
    return found


def _months(first_day, last_day):
    return {"$gte": first_day[:7], "$lte": last_day[:7]}


def video_series(video_id, first_day, last_day):
    """{day: counters} of one video over the span (``video_month``: one per month)."""
    found = get_db().video_months.find(
        {"video_id": video_id, "month": _months(first_day, last_day)}, {"month": 1, "days": 1}
    )
    return _by_day(found, first_day, last_day)


def owner_series(owner_id, first_day, last_day):
    """{day: counters} of all the owner's videos together (``owner_month``: one per month)."""
    found = get_db().owner_months.find(
        {"owner_id": owner_id, "month": _months(first_day, last_day)}, {"month": 1, "days": 1}
    )
    return _by_day(found, first_day, last_day)


def platform_series(first_day, last_day):
    """{day: counters} of every video together (``platform_months``: one per month, by
    ``_id``; a handful of documents a year)."""
    found = get_db().platform_months.find({"_id": _months(first_day, last_day)})
    return _by_day(found, first_day, last_day)
