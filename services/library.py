"""The video library as callers see it: details, the catalogue, edits, deletion, restore,
purge and share keys.

Whether a caller may see or change a video is services/access.py's to say.
"""

from models import media_file
from models import video as videos
from models.common import object_id
from models.keywords import query_words
from services import access, pagination
from services.errors import InvalidInput, NotFound


def details(caller, video_id, share_key=None):
    """``GET /video/{id}``: the video as this caller may see it (``?key=`` for unlisted)."""
    digest = access.share_key_digest(share_key) if share_key else None
    return shown_to(caller, access.video_seen_by(caller, video_id, digest))


def shown_to(caller, video):
    """The video with its share key only for those who may hand it out: owner and admin.

    The key goes out under its own name (``owner_share_key``), which the schema dumps as
    ``share_key``: a video that never passed here cannot show it by accident.
    """
    if access.sees_all_of(caller, video):
        return {**video, "owner_share_key": video.get("share_key")}
    return video


def new_share_key(caller, video_id):
    """``POST /video/{id}/share-key``: the old key, and every playback token issued with it,
    stop opening the video at once."""
    video = access.video_managed_by(caller, video_id)
    videos.replace_share_key(video["_id"])
    return shown_to(caller, videos.find(video["_id"]))


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


def edit(caller, video_id, fields):
    video = access.video_managed_by(caller, video_id)
    if fields:
        videos.update(video["_id"], **fields)
    return shown_to(caller, videos.find(video["_id"]))


def delete(caller, video_id, purge=False):
    if purge:
        return _purge(caller, video_id)
    video = access.video_managed_by(caller, video_id)
    videos.soft_delete(video["_id"])


def _purge(caller, video_id):
    access.require_purger(caller)
    video = _in_any_state(video_id)
    media_file.delete(
        video.get("media_file_id"), video.get("thumbnail_file_id"), video.get("source_file_id")
    )
    videos.remove(video["_id"])


def restore(caller, video_id):
    """Undo a soft delete (admins)."""
    access.require_admin(caller)
    video = _in_any_state(video_id)
    videos.restore(video["_id"])
    return shown_to(caller, videos.find(video["_id"]))


def _in_any_state(video_id):
    """The video, deleted or not, whatever its visibility: for admins' purge and restore."""
    video = videos.find(video_id)
    if video is None:
        raise NotFound(access.VIDEO_NOT_FOUND, code="video_not_found")
    return video
