"""HLS playback: the playlists, segments and key of a video's encrypted ladder.

Every HLS request carries the playback token in its query, and each one is checked as a
media request is (services.playback.playing: signature, expiry, video, live session, a full
token, a user who may still watch). So logout, a refund or a cancelled subscription stops
the next playlist, segment or key request, not only new tokens. The segments are AES-128
encrypted; the key route is what makes them playable, and answers only those checks.

Playlists are text made per request (services.hls_playlists) because every URI in them
carries the token; what they list is cached per ladder (see _segments). Segments are GridFS
files served like the progressive file (web.media_response: ranges, strong ETag, 304).
What is stored: models/hls_reads.py.
"""

import hashlib
from functools import lru_cache

from models import hls_reads
from services import hls_playlists, playback
from services.errors import NotFound
from services.playback import Playable

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
SEGMENT_TYPE = "video/mp2t"
LAST_SEGMENT = 99_999  # five digits, as the playlists name them: 6 days of 6 s segments
NO_LADDER = "This video has no HLS ladder; play its stream_url."


def master(token, video_id, count_view=False):
    """The multivariant playlist; its GET counts the session's view like the media GET."""
    grant, video, ladder = _ladder_for(token, video_id)
    if count_view:
        playback.count_view(grant, video)
    text = hls_playlists.master_playlist(ladder["renditions"], token)
    return _playlist(text, ladder, grant)


def media_playlist(token, video_id, rendition):
    """A rendition's segment list, each segment with its IV and the key's URI."""
    grant, video, ladder = _ladder_for(token, video_id)
    segments = _segments(video["_id"], ladder["ladder"], _named(ladder, rendition))
    return _playlist(hls_playlists.media_playlist(segments, token), ladder, grant)


# A published ladder never changes (a new one gets a new id), so its segment list can be
# kept: a 2-hour rendition lists 1,200 segments, about 90 ms of database reads a request
# on the embedded server, against 4 ms to write the text. 32 lists of at most 0.5 MB bound
# the memory; the access checks run before, on every request.
@lru_cache(maxsize=32)
def _segments(video_id, ladder, rendition):
    segments = hls_reads.segment_list(video_id, ladder, rendition)
    if not segments:  # raised, so never cached: a rendition is never published empty
        raise NotFound("This rendition has no segments.", code="rendition_not_found")
    return tuple(segments)


def segment(token, video_id, rendition, n):
    """Segment ``n`` of a rendition: encrypted bytes, served like the media file."""
    grant, video, ladder = _ladder_for(token, video_id)
    if n > LAST_SEGMENT:  # a number no ladder has, and past what a MongoDB integer holds
        raise NotFound("No such segment.", code="segment_not_found")
    found = hls_reads.segment_file(video["_id"], ladder["ladder"], _named(ladder, rendition), n)
    if found is None:
        raise NotFound("No such segment.", code="segment_not_found")
    return Playable(found, SEGMENT_TYPE, found["metadata"]["sha256"], grant.expires_at)


def key(token, video_id):
    """The 16 bytes of the video's published ladder's key, to the same checks as every
    segment."""
    _grant, _video, ladder = _ladder_for(token, video_id)
    secret = hls_reads.ladder_key(ladder["ladder"])
    if secret is None:  # a ladder being replaced: the player asks again for the new one
        raise NotFound(NO_LADDER, code="hls_not_found")
    return secret


def _ladder_for(token, video_id):
    grant, video = playback.playing(token, video_id)
    ladder = video.get("hls") or {}
    if not ladder.get("ladder") or not ladder.get("renditions"):
        raise NotFound(NO_LADDER, code="hls_not_found")
    return grant, video, ladder


def _named(ladder, rendition):
    """The rendition's name as stored; only a published name reaches a query."""
    if rendition not in {r["name"] for r in ladder["renditions"]}:
        raise NotFound("This video has no such rendition.", code="rendition_not_found")
    return rendition


class HeldBytes:
    """A chunk reader (the models.media_chunks.MediaChunks interface) over a body already in
    memory: a playlist then gets the media route's Range, ETag and 304 rules unchanged."""

    @staticmethod
    def read(file_doc, start, end):
        return iter((file_doc["body"][start : end + 1],))


def _playlist(text, ladder, grant):
    body = text.encode()
    document = {"length": len(body), "uploadDate": ladder["made_at"], "body": body}
    sha256 = hashlib.sha256(body).hexdigest()
    return Playable(document, PLAYLIST_TYPE, sha256, grant.expires_at)
