"""Playback: the token and URL a player gets, and the file it then gets with that token.

The JSON routes (``/stream``, ``/playback-token``) need the access token and hand out a
media URL signed with a playback token. The media and thumbnail routes have only that
token: each request checks its signature, expiry, video, session (logout ends it at once)
and that the video is still playable by its user (services.access.video_playable_by:
ready, visible to that user, not deleted). Everything that plays the video (a new token,
``/stream``, every media request) also checks that its user may watch it now
(services.access.video_watchable_by: a refund or an ended subscription stops the next
request); the thumbnail is a preview, for anyone who may see the listing. The HLS routes
(services/hls.py) make the media route's checks through ``playing``.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from models import daily_stats, media_file, playback_view, recent_view
from models import video as videos
from models.common import utcnow
from services import access, playback_memo, playback_tokens, urls
from services.errors import NotFound
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


def _digest(share_key):
    return access.share_key_digest(share_key) if share_key else None


def playback_token_for(caller, video_id, share_key=None):
    """``POST /video/{id}/playback-token``: a fresh playback token and its media URL.

    A token issued with the share key carries its digest, so it plays the unlisted video
    for as long as that key is the video's (a new key stops it).
    """
    digest = _digest(share_key)
    video = access.video_watchable_by(caller, video_id, digest)
    minted = playback_tokens.issue(caller, video["_id"], video.get("duration"), digest)
    return {
        "playback_token": minted.token,
        "expires_at": minted.expires_at,
        "stream_url": urls.media_url(video["_id"], minted.token),
        "hls_url": urls.hls_url(video, minted.token),
    }


def stream_info(caller, video_id, token, share_key=None):
    """``GET /video/{id}/stream``: what the React Native app opens in its WebView.

    An unlisted video opens with ``?key=`` or with a token that was issued with the key;
    a preview token (a locked listing item's thumbnail) never opens the stream.
    """
    grant = playback_tokens.verify(token, video_id, caller)
    video = access.video_watchable_by(caller, video_id, _digest(share_key) or grant.key_digest)
    playback_tokens.require_full(grant, caller)
    return {
        "stream_url": urls.media_url(video["_id"], token),
        "video_id": video["_id"],
        "title": video["title"],
        "mime_type": video.get("mime_type"),
        "expires_at": grant.expires_at,
        "thumbnail_url": urls.thumbnail_url(video, token),
        "hls_url": urls.hls_url(video, token),
    }


def media(token, video_id, count_view=False):
    """The stored rendition behind a playback token; counts the session's first view.

    403 for a preview token, and for a video its user may no longer watch (refunded,
    subscription ended: the refusal of services.access.watch_refusal).
    """
    claims = playback_tokens.checked_claims(token, video_id)
    grant, video, stored = playback_memo.remembered(
        ("media", claims["jti"]), lambda: _media_checks(claims, video_id)
    )
    if count_view:
        _count_view(grant, video)
    content_type = video.get("mime_type") or "video/mp4"
    return Playable(stored, content_type, video["sha256"], grant.expires_at)


def _media_checks(claims, video_id):
    grant, video = _playing_checks(claims, video_id)
    stored = media_file.find_file(video.get("media_file_id"))
    if stored is None:
        raise NotFound(access.VIDEO_NOT_FOUND, code="video_not_found")
    return grant, video, stored


def playing(token, video_id):
    """The grant and video of a request for the video's bytes (the media route, every HLS
    route): the token's checks, a full token (not a preview's), and a user who may watch.
    Remembered for a moment (services.playback_memo: a change is seen within a second)."""
    claims = playback_tokens.checked_claims(token, video_id)
    return playback_memo.remembered(
        ("playing", claims["jti"]), lambda: _playing_checks(claims, video_id)
    )


def _playing_checks(claims, video_id):
    grant, video = _authorized(claims, video_id)
    playback_tokens.require_full(grant)
    access.require_watchable(grant, video)
    return grant, video


def count_view(grant, video):
    """The first play of a playback session, from another route that starts playback (the
    HLS master playlist's GET): counted as the media GET counts it."""
    _count_view(grant, video)


def _count_view(grant, video):
    """At most one view per user and video per VIEW_WINDOW, and only at a playback token's
    first play, however many ranges its player asks: a token that played once never counts
    again, even after the window."""
    if grant.jti in _counted:
        return
    user_id = grant.user["_id"]
    first = playback_view.first_use(grant.jti, video["_id"], user_id, grant.expires_at)
    if first and recent_view.count_if_due(user_id, video["_id"], VIEW_WINDOW):
        videos.add_view(video["_id"])
        _count_daily(video, user_id)
    _counted.remember(grant.jti)


def _count_daily(video, user_id):
    """The view in the day's counters (docs/analytics.md): views, and the user among the
    video's unique viewers of the day."""
    now = utcnow()
    daily_stats.add(video["_id"], video["owner_id"], now, views=1)
    daily_stats.count_viewer(video["_id"], video["owner_id"], user_id, now)


def thumbnail(token, video_id):
    claims = playback_tokens.checked_claims(token, video_id)
    grant, video, stored = playback_memo.remembered(
        ("thumbnail", claims["jti"]), lambda: _thumbnail_checks(claims, video_id)
    )
    return Playable(stored, "image/jpeg", video["thumbnail_sha256"], grant.expires_at)


def _thumbnail_checks(claims, video_id):
    grant, video = _authorized(claims, video_id)
    stored = media_file.find_file(video.get("thumbnail_file_id"))
    if stored is None:
        raise NotFound("This video has no thumbnail.", code="thumbnail_not_found")
    return grant, video, stored


def _authorized(claims, video_id):
    """The grant of a media or thumbnail request's token claims (services.playback_tokens
    .checked_claims), and the video it may play now."""
    grant = playback_tokens.grant_of(claims)
    return grant, access.video_playable_by(grant, video_id, grant.key_digest)
