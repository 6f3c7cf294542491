"""Who may see and change which video, and the lists that show them."""

import hashlib
import hmac

from models import media_file
from models import video as videos
from models.common import object_id
from models.keywords import query_words
from services import pagination
from services.errors import Forbidden, InvalidInput, NotFound

NOT_FOUND = "No such video."


def owns(principal, video):
    return video["owner_id"] == principal.user["_id"]


def owner_or_admin(principal, video):
    """Who sees a video in every state, with its share key, whatever the owner's role now."""
    return principal.role == "admin" or owns(principal, video)


def can_manage(principal, video):
    """Admins manage every video; a creator its own. An owner demoted to viewer keeps its
    videos (and still sees them) but may not change them until it is a creator again."""
    return principal.role == "admin" or (principal.role == "creator" and owns(principal, video))


def share_key_digest(share_key):
    """What a playback token carries of the share key it was issued with: a hash, since
    tokens travel in URLs (logs, histories) and the key itself must stay the owner's to give."""
    return hashlib.sha256(share_key.encode()).hexdigest()[:32]


def _key_opens(video, key_digest):
    if not key_digest or not video.get("share_key"):
        return False
    return hmac.compare_digest(share_key_digest(video["share_key"]), key_digest)


def can_see(principal, video, key_digest=None):
    """The one visibility rule: owner and admin always; anyone else a ready public video,
    or a ready unlisted one with its share key (``key_digest``, see share_key_digest)."""
    if owner_or_admin(principal, video):
        return True
    if video["status"] != videos.READY:
        return False
    if video["visibility"] == "public":
        return True
    return video["visibility"] == "unlisted" and _key_opens(video, key_digest)


def _existing(video_id, include_deleted=False):
    video = videos.find(video_id)
    if video is None or (video.get("deleted_at") and not include_deleted):
        raise NotFound(NOT_FOUND, code="video_not_found")
    return video


def visible_to(principal, video_id, key_digest=None):
    """The video if this caller may see it; 404 otherwise, exactly as for an unknown id."""
    video = _existing(video_id)
    if not can_see(principal, video, key_digest):
        raise NotFound(NOT_FOUND, code="video_not_found")
    return video


def details(principal, video_id, share_key=None):
    """``GET /video/{id}``: the video as this caller may see it (``?key=`` for unlisted)."""
    digest = share_key_digest(share_key) if share_key else None
    return shown_to(principal, visible_to(principal, video_id, digest))


def shown_to(principal, video):
    """The video with its share key only for those who may hand it out: owner and admin.

    The key goes out under its own name (``owner_share_key``), which the schema dumps as
    ``share_key``: a video that never passed here cannot show it by accident.
    """
    if owner_or_admin(principal, video):
        return {**video, "owner_share_key": video.get("share_key")}
    return video


def managed_by(principal, video_id):
    """404 for what the caller may not see (whatever the method), 403 for what it may see
    but not change."""
    video = visible_to(principal, video_id)
    if can_manage(principal, video):
        return video
    if owns(principal, video):
        raise Forbidden(
            "Changing videos needs the creator role; yours is viewer.", code="insufficient_role"
        )
    raise Forbidden("Only the video's owner or an admin may change it.", code="not_owner")


def new_share_key(principal, video_id):
    """``POST /video/{id}/share-key``: the old key, and every playback token issued with it,
    stop opening the video at once."""
    video = managed_by(principal, video_id)
    videos.replace_share_key(video["_id"])
    return shown_to(principal, videos.find(video["_id"]))


def catalogue(per_page, cursor=None, q=None, category=None, creator=None):
    """(videos, pagination) of the public catalogue; ``q`` is word search (models.keywords)."""
    creator_id = None
    if creator is not None:
        creator_id = object_id(creator)
        if creator_id is None:
            raise InvalidInput(details={"creator": ["Not a valid id."]})
    scope = pagination.list_scope("videos", q=q, category=category, creator=creator)
    words = query_words(q) if q is not None else ()
    if q is not None and not words:
        pagination.read_cursor(scope, cursor)  # a forged cursor is 400 here too
        return [], pagination.last_page(per_page)  # nothing searchable in q: no video matches

    def read_page(after, window):
        return videos.catalogue_page(per_page, after, window, words, category, creator_id)

    return pagination.list_page(scope, cursor, per_page, read_page)


def edit(principal, video_id, fields):
    video = managed_by(principal, video_id)
    if fields:
        videos.update(video["_id"], **fields)
    return shown_to(principal, videos.find(video["_id"]))


def delete(principal, video_id, purge=False):
    if purge:
        return _purge(principal, video_id)
    video = managed_by(principal, video_id)
    videos.soft_delete(video["_id"])


def _purge(principal, video_id):
    if principal.role != "admin":
        raise Forbidden("Only an admin may purge a video.", code="admin_only")
    video = _existing(video_id, include_deleted=True)
    media_file.delete(
        video.get("media_file_id"), video.get("thumbnail_file_id"), video.get("source_file_id")
    )
    videos.remove(video["_id"])


def restore(principal, video_id):
    video = _existing(video_id, include_deleted=True)
    videos.restore(video["_id"])
    return shown_to(principal, videos.find(video["_id"]))
