"""Playback: who may play which video, and what the player gets.

The JSON routes (``/stream``, ``/playback-token``) need the access token and
hand out a media URL signed with a playback token. The media and thumbnail
routes have only that token: each request checks its signature, expiry,
video, session (logout ends it at once) and that the video is still ready,
visible to its user and not deleted.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from models import media_file, playback_view, recent_view
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


# Playback tokens this process has already seen play, the most recent few thousand. A player
# makes dozens of range requests per session; remembering its token here spares each later
# request a write that the unique index would refuse anyway. The database stays the judge
# across workers.
_counted = Recent(10_000)

# A user's views of one video count at most once in this long, however many playback tokens
# they ask for (each dashboard load issues one).
VIEW_WINDOW = timedelta(minutes=30)


def ready_video(principal, video_id, key_digest=None):
    """The video if ``principal`` may play it now: 404 unknown or hidden, 409 not ready.

    ``key_digest`` opens an unlisted video (services.videos.can_see): from ``?key=`` on the
    JSON routes, from the playback token's ``skd`` claim on the media routes.
    """
    video = video_rules.visible_to(principal, video_id, key_digest)
    if video["status"] != videos.READY:
        raise Conflict(
            f"The video is not ready to play (status: {video['status']}).",
            code="video_not_ready",
        )
    return video


def _digest(share_key):
    return video_rules.share_key_digest(share_key) if share_key else None


def new_session(principal, video_id, share_key=None):
    """``POST /video/{id}/playback-token``: a fresh token and its media URL.

    A token issued with the share key carries its digest, so it plays the unlisted video
    for as long as that key is the video's (a new key stops it).
    """
    digest = _digest(share_key)
    video = ready_video(principal, video_id, digest)
    minted = playback_tokens.issue(principal, video["_id"], video.get("duration"), digest)
    return {
        "playback_token": minted.token,
        "expires_at": minted.expires_at,
        "stream_url": urls.media_url(video["_id"], minted.token),
    }


def stream_info(principal, video_id, token, share_key=None):
    """``GET /video/{id}/stream``: what the React Native app opens in its WebView.

    An unlisted video opens with ``?key=`` or with a token that was issued with the key.
    """
    holder = playback_tokens.verify(token, video_id, principal)
    video = ready_video(principal, video_id, _digest(share_key) or holder.claims.get("skd"))
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
    """At most one view per user and video per VIEW_WINDOW, and only at a playback token's
    first play, however many ranges its player asks: a token that played once never counts
    again, even after the window."""
    claims, user_id = principal.claims, principal.user["_id"]
    if claims["jti"] in _counted:
        return
    first = playback_view.first_use(claims["jti"], video["_id"], user_id, _expiry(claims))
    if first and recent_view.count_if_due(user_id, video["_id"], VIEW_WINDOW):
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
    return principal, ready_video(principal, video_id, principal.claims.get("skd"))


def _expiry(claims):
    return datetime.fromtimestamp(claims["exp"], UTC)
