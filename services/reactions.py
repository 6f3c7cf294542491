"""Reactions: a like or a dislike, one per user and video (docs/engagement.md#reactions).

Who may react: whoever may watch the video now (services.access.video_watchable_by: 404
for what the caller may not see, 409 not ready, 403 with the watch rule's code for a paid
or subscribers' video not opened). Clearing one's own reaction needs only to see the video
(video_seen_by): a reaction made while one could watch it may be withdrawn after a refund.

Each change moves the video's ``likes``/``dislikes`` and the day's counters
(models.daily_stats: ``likes``/``dislikes`` of a day are the net reactions made that day)
by what the change replaced as the database saw it (models.reaction.change), never by a
read made before the write: concurrent changes add up exactly.

The reaction and the counts are two writes (no transactions): a process that dies between
them leaves the video's counts off by that one change. ``recount`` sets them again from
the stored reactions (docs/engagement.md#repair).
"""

import logging

from models import daily_stats
from models import reaction as reactions
from models import video as videos
from models.common import utcnow
from services import access

log = logging.getLogger(__name__)


def react(caller, video_id, value, share_key=None):
    """``PUT /video/{id}/reaction``: the caller's reaction becomes ``value``."""
    digest = access.share_key_digest(share_key) if share_key else None
    video = access.video_watchable_by(caller, video_id, digest)
    return _changed(caller, video, value)


def clear(caller, video_id, share_key=None):
    """``DELETE /video/{id}/reaction``: the caller has no reaction to the video any more."""
    digest = access.share_key_digest(share_key) if share_key else None
    video = access.video_seen_by(caller, video_id, digest)
    return _changed(caller, video, None)


def _changed(caller, video, value):
    apply_change(caller.user["_id"], video, value)
    likes, dislikes = reactions.counts(video["_id"])
    return {"reaction": value, "likes": likes, "dislikes": dislikes}


def apply_change(user_id, video, value):
    """Change ``user_id``'s reaction to ``video`` (a document) to ``value`` and move the
    counts by what it replaced; that previous value."""
    old = reactions.change(user_id, video["_id"], value)
    increments = reactions.deltas(old, value)
    if increments:
        reactions.move_counts(video["_id"], increments)
        if video.get("owner_id") is not None:  # a video gone for good has no more days
            daily_stats.add(video["_id"], video["owner_id"], utcnow(), **increments)
    return old


def mine(caller, video):
    """The caller's reaction to ``video``: ``like``, ``dislike`` or None."""
    return reactions.value_of(caller.user["_id"], video["_id"])


def mine_among(caller, videos):
    """``{video id: value}`` of the caller's reactions to ``videos``: one query a page."""
    return reactions.values_of(caller.user["_id"], [video["_id"] for video in videos])


def recount(video_id):
    """Set the video's counts from its stored reactions; the ``(likes, dislikes)`` set.

    The repair after a process died between a reaction's write and its count update. Run
    it while no reaction of the video is changing: a change written but not yet counted
    when it reads would be counted twice."""
    likes, dislikes = reactions.stored_counts(video_id)
    before = reactions.counts(video_id)
    if before != (likes, dislikes):
        log.warning("video %s reaction counts %s set to %s", video_id, before, (likes, dislikes))
    reactions.set_counts(video_id, likes, dislikes)
    return likes, dislikes


def remove_all_of(user_id, batch=20, check=lambda: None):
    """Clear every reaction of ``user_id`` (an account deletion), moving each video's
    counts down as a DELETE would; ``check`` runs between two batches (the lease)."""
    while found := reactions.of_user(user_id, batch):
        for entry in found:
            video = videos.find(entry["video_id"]) or {"_id": entry["video_id"]}
            apply_change(user_id, video, None)
        check()


def forget_video(video_id):
    """The reactions to a video gone for good (purged, or its owner's account deleted)."""
    reactions.remove_of_video(video_id)
