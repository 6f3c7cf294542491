"""Analytics: a video's, a creator's and the platform's engagement over a span of days
(docs/analytics.md).

Every series is read from the daily counters (models/daily_stats.py), one document per day
of the span, so a report costs O(days in the span), never O(events). Every day of the span
is in ``daily``, with zeros where nothing happened.
"""

from datetime import UTC, datetime, timedelta

from models import daily_stats, platform_stats
from services import access, earnings
from services.errors import Forbidden, InvalidInput

DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP_VIDEOS = 10
SERIES = ("views", "unique_viewers", "watch_seconds")


def today():
    return datetime.now(UTC).date()


def span(first=None, last=None):
    """The (first, last) dates of a report: ``to`` defaults to today (UTC), ``from`` to the
    30 days that end on ``to``; ``from`` after ``to`` or more than 366 days is a 400."""
    last = last or today()
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        message = "The 'to' date must not be before the 'from' date."
        raise InvalidInput(message, code="invalid_date_range", details={"to": [message]})
    if (last - first).days + 1 > MAX_DAYS:
        message = f"A span covers at most {MAX_DAYS} days."
        raise InvalidInput(message, code="span_too_long", details={"from": [message]})
    return first, last


def video_report(caller, video_id, first=None, last=None):
    """The video's totals and daily series: its owner and admins (403 for anyone else who
    may see it, 404 for who may not, exactly as for an unknown id)."""
    first, last = span(first, last)
    video = access.video_seen_by(caller, video_id)
    if not access.sees_all_of(caller, video):
        raise Forbidden(
            "Only the video's owner or an admin may see its analytics.", code="not_owner"
        )
    daily_stats.flush()  # this process's pending increments first (models.counter_buffer)
    days = daily_stats.video_series(video["_id"], first.isoformat(), last.isoformat())
    reactions = {name: int(video.get(name) or 0) for name in ("likes", "dislikes")}
    return _report(first, last, days, reactions)


def creator_report(caller, first=None, last=None):
    """The caller's videos together: totals and the daily series of the span, and the top
    videos by views of all time (docs/analytics.md#the-reports)."""
    first, last = span(first, last)
    owner_id = caller.user["_id"]
    daily_stats.flush()
    days = daily_stats.owner_series(owner_id, first.isoformat(), last.isoformat())
    report = _report(first, last, days, platform_stats.owner_reactions(owner_id))
    report["top_videos"] = platform_stats.top_videos(owner_id, TOP_VIDEOS)
    return report


def admin_report(first=None, last=None):
    """The platform: users by role, signups and views per day, videos by status, GridFS
    bytes, and the revenue of the span's months (services.earnings)."""
    first, last = span(first, last)
    daily_stats.flush()
    days = daily_stats.platform_series(first.isoformat(), last.isoformat())
    signups = platform_stats.signups_by_day(first, last)
    revenue = earnings.platform_report(first.strftime("%Y-%m"), last.strftime("%Y-%m"))
    return {
        "first": first,
        "last": last,
        "users_by_role": platform_stats.users_by_role(),
        "videos_by_status": platform_stats.videos_by_status(),
        "stored_bytes": platform_stats.stored_bytes(),
        "daily": [
            {"date": day, "views": _count(days, day, "views"), "signups": signups.get(day, 0)}
            for day in daily_stats.days_between(first, last)
        ],
        "revenue": {"currency": revenue["currency"], **revenue["totals"]},
    }


def _count(days, day, name):
    return int(days.get(day, {}).get(name) or 0)


def _report(first, last, days, reactions):
    """{from, to, totals, daily} of a series of day documents."""
    daily = [
        {"date": day, **{name: _count(days, day, name) for name in SERIES}}
        for day in daily_stats.days_between(first, last)
    ]
    totals = {name: sum(row[name] for row in daily) for name in SERIES}
    completions = sum(_count(days, day, "completions") for day in days)
    return {
        "first": first,
        "last": last,
        "totals": {**totals, **reactions, "completion_rate": _rate(completions, totals["views"])},
        "daily": daily,
    }


def _rate(finished, views):
    """Finished views / views, 0 with no views, at most 1 (a finish whose view was counted
    before the span)."""
    return round(min(1.0, finished / views), 4) if views else 0.0
