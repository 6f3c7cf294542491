"""Who may see and change which video, and the lists that show them."""

from models import media_file
from models import video as videos
from models.common import object_id
from models.keywords import query_words
from services import pagination
from services.errors import Forbidden, InvalidInput, NotFound

NOT_FOUND = "No such video."


def can_manage(principal, video):
    return principal.role == "admin" or video["owner_id"] == principal.user["_id"]


def _existing(video_id, include_deleted=False):
    video = videos.find(video_id)
    if video is None or (video.get("deleted_at") and not include_deleted):
        raise NotFound(NOT_FOUND, code="video_not_found")
    return video


def visible_to(principal, video_id):
    """The video if this caller may see it; 404 otherwise (not 403: no existence leak)."""
    video = _existing(video_id)
    if can_manage(principal, video):
        return video
    if video["status"] != videos.READY or video["visibility"] == "private":
        raise NotFound(NOT_FOUND, code="video_not_found")
    return video


def managed_by(principal, video_id):
    video = _existing(video_id)
    if not can_manage(principal, video):
        raise Forbidden("Only the video's owner or an admin may change it.", code="not_owner")
    return video


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
    return videos.find(video["_id"])


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


def restore(video_id):
    video = _existing(video_id, include_deleted=True)
    videos.restore(video["_id"])
    return videos.find(video["_id"])
