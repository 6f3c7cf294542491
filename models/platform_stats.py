"""The admin analytics' reads outside the daily counters (docs/analytics.md#what-each-read-costs):
users by role, signups by day, videos by status, GridFS bytes, and a creator's reaction counts
and top videos (from the video documents). Each is one query; what it costs is said at each."""

from datetime import UTC, datetime, time, timedelta

from models.db import get_db


def users_by_role():
    """{role: count}: one aggregation over ``users`` (O(users), on the server)."""
    rows = get_db().users.aggregate([{"$group": {"_id": "$role", "count": {"$sum": 1}}}])
    return {row["_id"]: row["count"] for row in rows if row["_id"] is not None}


def signups_by_day(first, last):
    """{YYYY-MM-DD: count} of accounts created from ``first`` to ``last`` (dates, included):
    a range on ``created_at`` (the ``newest`` index), reading only the span's signups'
    ``created_at``."""
    start = datetime.combine(first, time.min, tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC)
    found = get_db().users.find(
        {"created_at": {"$gte": start, "$lt": end}}, {"_id": 0, "created_at": 1}
    )
    counts = {}
    for document in found:
        day = document["created_at"].replace(tzinfo=UTC).strftime("%Y-%m-%d")
        counts[day] = counts.get(day, 0) + 1
    return counts


def videos_by_status():
    """{status: count}: one aggregation over ``videos`` (O(videos), on the server)."""
    rows = get_db().videos.aggregate([{"$group": {"_id": "$status", "count": {"$sum": 1}}}])
    return {row["_id"]: row["count"] for row in rows if row["_id"] is not None}


def stored_bytes():
    """The sum of ``fs.files`` lengths (media and thumbnails): one aggregation over the
    GridFS files (O(files), one small document each, on the server)."""
    rows = list(
        get_db().fs.files.aggregate([{"$group": {"_id": None, "bytes": {"$sum": "$length"}}}])
    )
    return int(rows[0]["bytes"]) if rows else 0


def owner_reactions(owner_id):
    """{likes, dislikes} summed over the owner's videos (``owner`` index; O(videos))."""
    pipeline = [
        {"$match": {"owner_id": owner_id}},
        {
            "$group": {
                "_id": None,
                "likes": {"$sum": {"$ifNull": ["$likes", 0]}},
                "dislikes": {"$sum": {"$ifNull": ["$dislikes", 0]}},
            }
        },
    ]
    rows = list(get_db().videos.aggregate(pipeline))
    row = rows[0] if rows else {}
    return {"likes": int(row.get("likes", 0)), "dislikes": int(row.get("dislikes", 0))}


def top_videos(owner_id, limit):
    """[{video_id, title, views, watch_seconds}] of the owner's videos with the most views of
    all time (the running ``views`` and ``watch_seconds`` on each video document), at most
    ``limit``, ties by id; soft-deleted videos are left out. One read of at most ``limit``
    documents in the ``owner_top`` index's order: O(limit), whatever the videos or days."""
    found = (
        get_db()
        .videos.find(
            {"owner_id": owner_id, "deleted_at": None, "views": {"$gt": 0}},
            {"title": 1, "views": 1, "watch_seconds": 1},
        )
        .sort([("views", -1), ("_id", 1)])
        .limit(limit)
    )
    return [
        {
            "video_id": document["_id"],
            "title": document.get("title"),
            "views": int(document.get("views") or 0),
            "watch_seconds": int(document.get("watch_seconds") or 0),
        }
        for document in found
    ]
