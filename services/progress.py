"""Watch progress: the player's reports, continue-watching, history, and the watch time they
credit to the day's counters (docs/progress.md#watch-progress).

A report (``PUT /video/{id}/progress``) is accepted only for a video the caller may watch now
(services.access.video_watchable_by). It credits watch time: at most the wall time since the
same user's previous report of the video, at most how far the position advanced since it (a
seek forward is not watching), and at most MAX_CREDIT_SECONDS (a player that stopped reporting
for a while is not assumed to have watched all along). The first report credits nothing. The
credit goes to ``watched_seconds`` on the progress document (a float, so fractions add up) and
its whole seconds to the day's ``watch_seconds`` counter (models.daily_stats): the counter
never gets more than the wall time between reports. The report that first passes FINISHED
(the one that sets ``finished_at``) adds 1 to the day's ``completions``: once per user and
video, whatever seeking back and finishing again.

Two reports at once: the write is conditional on the document's version as read
(models.progress.replace_if_unchanged); the loser reads again, now a moment after the
winner's report, and credits that moment only.
"""

import logging
import math

from models import daily_stats
from models import progress as entries
from models.common import as_utc, utcnow
from models.keyset import DEFAULT_WINDOW, Page, Position
from services import access, library, pagination, reactions
from services.errors import InvalidInput

log = logging.getLogger(__name__)

REPORT_INTERVAL_SECONDS = 10  # what players are asked to do (docs/progress.md)
MAX_CREDIT_SECONDS = 2 * REPORT_INTERVAL_SECONDS
STARTED = 0.05  # from 5% (included) a video is in continue-watching...
FINISHED = 0.90  # ...until 90% (included): then it is finished and leaves the list
# Players overshoot the end by a frame or a rounding: up to this far past it is the end.
PAST_END_SLACK_SECONDS = 2.0
ATTEMPTS = 5
# Reads of a list page that skips hidden videos, before it answers a short page.
PAGE_READS = 4
BEYOND_END = "Position is beyond the end of the video."


def report(caller, video_id, position, share_key=None):
    """Record ``position`` (seconds) as where ``caller`` is in the video; credit watch time."""
    digest = access.share_key_digest(share_key) if share_key else None
    video = access.video_watchable_by(caller, video_id, digest)
    position = checked_position(position, video.get("duration"))
    for _ in range(ATTEMPTS):
        if _record(caller.user["_id"], video, position, digest):
            return
    # Every attempt lost to another report of the same user and video: theirs stands.
    log.warning("progress report of video %s lost to concurrent reports", video["_id"])


def checked_position(position, duration):
    """``position`` clipped to the end when a little past it; 400 when negative, not finite or
    further past the end (the schema refuses what is not a number)."""
    if not math.isfinite(position) or position < 0:
        message = "Position must be a number of seconds, 0 or more."
        raise InvalidInput(message, details={"position_seconds": [message]})
    if not duration or duration <= 0:
        return position  # the length is unknown: nothing to clip to
    if position > duration + PAST_END_SLACK_SECONDS:
        raise InvalidInput(
            BEYOND_END,
            code="position_beyond_duration",
            details={"position_seconds": [BEYOND_END], "duration": duration},
        )
    return min(position, duration)


def state(position, duration):
    """What a position means: (progress 0-1, finished, in continue-watching)."""
    progress = min(position / duration, 1.0) if duration and duration > 0 else 0.0
    finished = progress >= FINISHED
    return progress, finished, STARTED <= progress < FINISHED


def credited_seconds(previous, position, now):
    """The watch time between the previous report and this one: never more than the wall
    time between them, the position's advance, or MAX_CREDIT_SECONDS."""
    wall = (now - as_utc(previous["updated_at"])).total_seconds()
    advance = position - previous["position_seconds"]
    return max(0.0, min(wall, advance, MAX_CREDIT_SECONDS))


def _record(user_id, video, position, digest):
    """One attempt at writing the report; False when another report wrote first."""
    now = utcnow()
    duration = video.get("duration")
    progress, finished, in_progress = state(position, duration)
    fields = {
        "position_seconds": position,
        "duration": duration,
        "progress": progress,
        "finished": finished,
        "in_progress": in_progress,
        "key_digest": digest,
        "updated_at": now,
    }
    previous = entries.find(user_id, video["_id"])
    if previous is None:
        return _first_report(user_id, video, fields)
    before = previous.get("watched_seconds") or 0.0
    fields["watched_seconds"] = before + credited_seconds(previous, position, now)
    completed = finished and not previous.get("finished_at")
    if completed:
        fields["finished_at"] = now
    if not entries.replace_if_unchanged(previous, fields):
        return False
    # The write that set finished_at is the user's one completion of the video (analytics).
    watched = int(fields["watched_seconds"]) - int(before)
    _count(video, now, watch_seconds=watched, completions=1 if completed else 0)
    return True


def _first_report(user_id, video, fields):
    """The user's first report of the video: it credits no watch time; one past 90% is
    already a completion. False when another first report inserted the entry."""
    now, finished = fields["updated_at"], fields["finished"]
    inserted = entries.insert_first(
        {
            "_id": entries.entry_id(user_id, video["_id"]),
            "user_id": user_id,
            "video_id": video["_id"],
            "watched_seconds": 0.0,
            "reports": 1,
            "first_watched_at": now,
            "finished_at": now if finished else None,
            **fields,
        }
    )
    if inserted and finished:
        _count(video, now, completions=1)
    return inserted


def _count(video, now, **counts):
    """Add the report's positive ``counts`` to the video's counters of the day."""
    increments = {name: value for name, value in counts.items() if value > 0}
    if increments:
        daily_stats.add(video["_id"], video["owner_id"], now, **increments)


def continue_watching(caller, per_page, cursor=None):
    """(items, pagination): videos started and not finished, most recently watched first."""
    return _listing(caller, "continue-watching", per_page, cursor, in_progress_only=True)


def history(caller, per_page, cursor=None):
    """(items, pagination): every video the caller reported progress on, most recent first."""
    return _listing(caller, "history", per_page, cursor, in_progress_only=False)


def _listing(caller, name, per_page, cursor, in_progress_only):
    user_id = caller.user["_id"]
    scope = pagination.list_scope(name, user=str(user_id))

    def read_page(after, window):
        return _visible_page(caller, per_page, after, in_progress_only)

    found, body = pagination.list_page(scope, cursor, per_page, read_page)
    check = access.watch_checker(caller)
    mine = reactions.mine_among(caller, [video for _, video in found])
    return pagination.built_items(found, lambda pair: _item(caller, pair, check, mine)), body


def _visible_page(caller, per_page, after, in_progress_only):
    """A models.keyset.Page of (entry, video) pairs whose video the caller may still see.

    Entries of deleted, purged or no longer visible videos are skipped and the page is filled
    from the next ones, for at most PAGE_READS reads; after that the page is short, and its
    cursor goes on after the last entry read.
    """
    wanted, kept, position = per_page + 1, [], after
    for _ in range(PAGE_READS):
        needed = wanted - len(kept)
        batch = entries.page(caller.user["_id"], needed, position, in_progress_only)
        found = entries.videos_of(batch)
        for entry in batch:
            video = found.get(entry["video_id"])
            if video is not None and _visible(caller, entry, video):
                kept.append((entry, video))
        if batch:
            position = Position(*entries.key(batch[-1]))
        if len(batch) < needed or len(kept) >= wanted:
            more = len(kept) > per_page
            break
    else:
        more = True
    items = kept[:per_page]
    end = Position(*entries.key(items[-1][0])) if len(kept) > per_page else position
    # These lists are not read in time windows (models.progress.page): the hint is unused.
    return Page(items, more, end if more else None, DEFAULT_WINDOW)


def _visible(caller, entry, video):
    return not video.get("deleted_at") and access.may_see(caller, video, entry.get("key_digest"))


def _item(caller, pair, check, mine):
    """A listed video (services.library.listed, as on the dashboard) with where the caller is."""
    entry, video = pair
    return {
        **library.listed(caller, video, check, mine, playable=True),
        "position_seconds": entry["position_seconds"],
        "duration": entry.get("duration"),
        "progress": entry["progress"],
        "finished": entry["finished"],
        "updated_at": entry["updated_at"],
    }
