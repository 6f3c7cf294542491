"""Who may do what: every access rule of the API, each a function of the caller.

A caller is who a request acts for: an access token's ``Caller`` (below) on the JSON
routes, a playback token's ``PlaybackGrant`` (services.playback_tokens) on the media and
thumbnail routes. Both name a user; the rules read only its ``user`` and ``role``. The
words they are written in (roles, visibilities) are defined in models/vocabulary.py.

How a refusal is said is part of the rule: what the caller may not see is 404, exactly
like an unknown id (no existence leak); what it may see but not do is 403.
"""

import hashlib
import hmac
from dataclasses import dataclass

from models import course as courses
from models import plan as plans
from models import purchase as purchases
from models import subscription as subscriptions
from models import video as videos
from models.vocabulary import (
    ADMIN,
    COURSE_ITEM,
    CREATOR,
    FREE,
    PAID,
    PUBLIC,
    SELF_SERVICE_ROLES,
    SUBSCRIBERS,
    UNLISTED,
    VIDEO_ITEM,
)
from services import money
from services.errors import Conflict, Forbidden, NotFound

VIDEO_NOT_FOUND = "No such video."
UPLOADERS = (CREATOR, ADMIN)


@dataclass(frozen=True)
class Caller:
    """Who calls with an access token: the user document and the login session the token
    belongs to (services.accounts.authenticate)."""

    user: dict
    session_id: str

    @property
    def user_id(self):
        return str(self.user["_id"])

    @property
    def role(self):
        return self.user["role"]


def require_signup_role(role):
    """Signup grants only the self-service roles; admin comes from another admin."""
    if role not in SELF_SERVICE_ROLES:
        raise Forbidden("This role cannot be chosen at signup.", code="role_not_allowed")


def require_uploader(caller):
    """Uploading: creators and admins."""
    _require_role(caller, UPLOADERS)


def require_admin(caller):
    """Listing users, changing roles, restoring a deleted video: admins only."""
    _require_role(caller, (ADMIN,))


def _require_role(caller, roles):
    if caller.role not in roles:
        raise Forbidden("Your role does not allow this.", code="insufficient_role")


def require_purger(caller):
    """Purging a video (its files go for good): admins only."""
    if caller.role != ADMIN:
        raise Forbidden("Only an admin may purge a video.", code="admin_only")


def owns(caller, video):
    return video["owner_id"] == caller.user["_id"]


def sees_all_of(caller, video):
    """Who sees a video in every state, with its share key, whatever the owner's role now:
    its owner and admins."""
    return caller.role == ADMIN or owns(caller, video)


def may_manage(caller, video):
    """Admins manage every video; a creator its own. An owner demoted to viewer keeps its
    videos (and still sees them) but may not change them until it is a creator again."""
    return caller.role == ADMIN or (caller.role == CREATOR and owns(caller, video))


def may_see(caller, video, key_digest=None):
    """The one visibility rule: owner and admin always; anyone else a ready public video,
    or a ready unlisted one with its share key (``key_digest``, see share_key_digest)."""
    if sees_all_of(caller, video):
        return True
    if video["status"] != videos.READY:
        return False
    if video["visibility"] == PUBLIC:
        return True
    return video["visibility"] == UNLISTED and _key_opens(video, key_digest)


def share_key_digest(share_key):
    """What a playback token carries of the share key it was issued with: a hash, since
    tokens travel in URLs (logs, histories) and the key itself must stay the owner's to give."""
    return hashlib.sha256(share_key.encode()).hexdigest()[:32]


def _key_opens(video, key_digest):
    if not key_digest or not video.get("share_key"):
        return False
    return hmac.compare_digest(share_key_digest(video["share_key"]), key_digest)


def video_seen_by(caller, video_id, key_digest=None):
    """The video if this caller may see it; 404 otherwise, exactly as for an unknown id."""
    video = videos.find(video_id)
    if video is None or video.get("deleted_at") or not may_see(caller, video, key_digest):
        raise NotFound(VIDEO_NOT_FOUND, code="video_not_found")
    return video


def video_managed_by(caller, video_id):
    """The video if this caller may change it: 404 for what it may not see (whatever the
    method), 403 for what it may see but not change."""
    video = video_seen_by(caller, video_id)
    if may_manage(caller, video):
        return video
    if owns(caller, video):
        raise Forbidden(
            "Changing videos needs the creator role; yours is viewer.", code="insufficient_role"
        )
    raise Forbidden("Only the video's owner or an admin may change it.", code="not_owner")


def video_playable_by(caller, video_id, key_digest=None):
    """The video if ``caller`` may play it now: 404 unknown or hidden (video_seen_by), 409
    not ready. ``key_digest`` opens an unlisted video: from ``?key=`` on the JSON routes,
    from the playback token's ``skd`` claim on the media routes."""
    video = video_seen_by(caller, video_id, key_digest)
    if video["status"] != videos.READY:
        raise Conflict(
            f"The video is not ready to play (status: {video['status']}).",
            code="video_not_ready",
        )
    return video


def may_watch(caller, video):
    """The one rule of who may watch a video one may see (may_see): owner and admins always;
    ``free`` anyone; ``paid`` a buyer of the video or of a priced course that contains it;
    ``subscribers`` an active subscriber of its creator. It reads the purchases and
    subscriptions as they are now, so a refund or an ended subscription stops the next
    request."""
    return watch_refusal(caller, video) is None


def watch_refusal(caller, video, memo=None):
    """None when ``caller`` may watch ``video``; else the 403 that says what would open it:
    ``purchase_required`` (price, and the priced courses that include it) or
    ``subscription_required`` (the creator's monthly price).

    ``memo`` (a dict, see watch_checker) keeps the per-creator lookups (subscription, plan)
    across the videos of one listing page.
    """
    level = access_level(video)
    if level == FREE or sees_all_of(caller, video):
        return None
    user_id = caller.user["_id"]
    if level == PAID:
        # The video's own purchase first: a direct buyer (most) costs one lookup per media
        # request, a course buyer three (bench/money.py measures the first).
        if purchases.holds_any(user_id, [(VIDEO_ITEM, video["_id"])]):
            return None
        course_ids = courses.priced_containing(video["_id"])
        if course_ids and purchases.holds_any(user_id, [(COURSE_ITEM, c) for c in course_ids]):
            return None
        return _locked(
            video,
            "purchase_required",
            "Buy this video (or a course with it) first.",
            price=video.get("price"),
            course_ids=[str(c) for c in course_ids],
        )
    owner_id, memo = video["owner_id"], {} if memo is None else memo
    if level == SUBSCRIBERS and _remembered(
        memo, ("subscribed", owner_id), lambda: subscriptions.is_active(user_id, owner_id)
    ):
        return None
    plan = _remembered(memo, ("plan", owner_id), lambda: plans.find(owner_id))
    return _locked(
        video,
        "subscription_required",
        "Subscribe to this creator first.",
        price=plan["price"] if plan else None,
        creator_id=str(owner_id),
    )


def _remembered(memo, key, look_up):
    if key not in memo:
        memo[key] = look_up()
    return memo[key]


def watch_checker(caller):
    """watch_refusal for the videos of one listing: a creator's subscription and plan are
    looked up once per page, however many of its videos the page holds."""
    memo = {}
    return lambda video: watch_refusal(caller, video, memo)


def access_level(video):
    """A video's access level; videos stored before access levels are free."""
    return video.get("access") or FREE


def _locked(video, code, message, **details):
    details = {"access": access_level(video), "currency": money.currency(), **details}
    return Forbidden(message, code=code, details=details)


def require_watchable(caller, video):
    """Raise the 403 of watch_refusal when ``caller`` may not watch ``video``."""
    refusal = watch_refusal(caller, video)
    if refusal is not None:
        raise refusal


def video_watchable_by(caller, video_id, key_digest=None):
    """The video if ``caller`` may play it now (video_playable_by) and watch it (may_watch):
    what issuing a playback token and every media request check. Thumbnails need only
    video_playable_by: previews are for anyone who may see the listing."""
    video = video_playable_by(caller, video_id, key_digest)
    require_watchable(caller, video)
    return video
