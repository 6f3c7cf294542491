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

from models import video as videos
from models.vocabulary import ADMIN, CREATOR, PUBLIC, SELF_SERVICE_ROLES, UNLISTED
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
