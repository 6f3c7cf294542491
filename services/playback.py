"""Playback: who may play which video, and what the player gets.

The JSON routes (``/stream``, ``/playback-token``) need the access token and
hand out a media URL signed with a playback token. The media and thumbnail
routes have only that token: each request checks its signature, expiry,
video, session (logout ends it at once) and that the video is still ready,
visible to its user and not deleted.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from models import media_file, playback_view
from models import video as videos
from services import playback_tokens, urls
from services import videos as video_rules
from services.errors import Conflict, NotFound
from services.recent import Recent


@dataclass(frozen=True)
class Playable:
    """What the media and thumbnail routes serve: a GridFS file and its validators."""

    file: dict
    content_type: str
    sha256: str
    expires_at: datetime  # of the playback token: bounds Cache-Control

    @property
    def etag(self):
        return f'"{self.sha256}"'

    @property
    def size(self):
        return self.file["length"]


# Playback tokens this process has already counted, the most recent few thousand. A player
# makes dozens of range requests per session; remembering its token here spares each later
# request a write that the unique index would refuse anyway. The database stays the judge
# across workers.
_counted = Recent(10_000)


def ready_video(principal, video_id):
    """The video if ``principal`` may play it now: 404 unknown or hidden, 409 not ready."""
    video = video_rules.visible_to(principal, video_id)
    if video["status"] != videos.READY:
        raise Conflict(
            f"The video is not ready to play (status: {video['status']}).",
            code="video_not_ready",
        )
    return video


def new_session(principal, video_id):
    """``POST /video/{id}/playback-token``: a fresh token and its media URL."""
    video = ready_video(principal, video_id)
    minted = playback_tokens.issue(principal, video["_id"], video.get("duration"))
    return {
        "playback_token": minted.token,
        "expires_at": minted.expires_at,
        "stream_url": urls.media_url(video["_id"], minted.token),
    }


def stream_info(principal, video_id, token):
    """``GET /video/{id}/stream``: what the React Native app opens in its WebView."""
    holder = playback_tokens.verify(token, video_id, principal)
    video = ready_video(principal, video_id)
    return {
        "stream_url": urls.media_url(video["_id"], token),
        "video_id": video["_id"],
        "title": video["title"],
        "mime_type": video.get("mime_type"),
        "expires_at": _expiry(holder.claims),
        "thumbnail_url": urls.thumbnail_url(video, token),
    }


def media(token, video_id, count_view=False):
    """The stored rendition behind a playback token; counts the session's first view."""
    principal, video = _authorized(token, video_id)
    stored = media_file.find_file(video.get("media_file_id"))
    if stored is None:
        raise NotFound("No such video.", code="video_not_found")
    if count_view:
        _count_view(principal, video)
    expires_at = _expiry(principal.claims)
    return Playable(stored, video.get("mime_type") or "video/mp4", video["sha256"], expires_at)


def _count_view(principal, video):
    """One view per playback session (token), however many ranges its player asks."""
    claims = principal.claims
    if claims["jti"] in _counted:
        return
    if playback_view.first_use(claims["jti"], video["_id"], principal.user["_id"], _expiry(claims)):
        videos.add_view(video["_id"])
    _counted.remember(claims["jti"])


def thumbnail(token, video_id):
    principal, video = _authorized(token, video_id)
    stored = media_file.find_file(video.get("thumbnail_file_id"))
    if stored is None:
        raise NotFound("This video has no thumbnail.", code="thumbnail_not_found")
    return Playable(stored, "image/jpeg", video["thumbnail_sha256"], _expiry(principal.claims))


def _authorized(token, video_id):
    principal = playback_tokens.verify(token, video_id)
    return principal, ready_video(principal, video_id)


def _expiry(claims):
    return datetime.fromtimestamp(claims["exp"], UTC)
