"""The admin analytics' reads outside the daily counters (docs/analytics.md#what-each-read-costs):
users by role, signups by day, videos by status, GridFS bytes, and the reaction counts and
titles of a creator's videos. Each is one query; what it costs is said at each."""

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


def titles(video_ids):
    """{video id: title} of these videos (by ``_id``)."""
    found = get_db().videos.find({"_id": {"$in": list(video_ids)}}, {"title": 1})
    return {document["_id"]: document.get("title") for document in found}
