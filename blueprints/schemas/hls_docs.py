"""OpenAPI of the HLS routes (blueprints/hls.py, docs/playback.md#hls).

The byte routes' shared refusals (blueprints/common/byte_routes.py) and Range answers
(media_docs.bytes_doc) apply; what differs is said here: playlists are text that no cache
may keep (every URI in them carries the token), segments are immutable, and the key
answers no Range or conditional request.
"""

import copy

from blueprints.common.byte_routes import WATCH_403
from blueprints.schemas.media_docs import STRING, TOKEN_PARAMETER, bytes_doc
from services.hls import PLAYLIST_TYPE, SEGMENT_TYPE

NOT_STORED = "private, no-store"
KEY_BYTES = 16

KEY_ERRORS = {
    403: "The token is for another video (`token_wrong_video`), a preview token "
    "(`token_preview_only`), or a video its user may no longer watch (refunded, "
    "subscription ended): " + WATCH_403,
    404: "Unknown or deleted video, or a video with no HLS ladder (`hls_not_found`)",
}
HLS_ERRORS = {
    **KEY_ERRORS,
    404: "Unknown or deleted video, no HLS ladder (`hls_not_found`), or no such rendition "
    "(`rendition_not_found`) or segment (`segment_not_found`)",
}

MASTER_EXAMPLE = (
    "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n"
    "#EXT-X-STREAM-INF:BANDWIDTH=2950000,AVERAGE-BANDWIDTH=2100000,RESOLUTION=1280x720,"
    'CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000\n720p/index.m3u8?token=T\n'
)
MEDIA_EXAMPLE = (
    "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:0\n"
    "#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n"
    '#EXT-X-KEY:METHOD=AES-128,URI="../key?token=T",IV=0x8c2f0e6b1d4a7c3e9f5b2d8a6c4e1f07\n'
    "#EXTINF:6.000000,\n00000.ts?token=T\n#EXT-X-ENDLIST\n"
)
PLAYLIST_CACHE = "`private, no-store`: the playlist holds the playback token"
SEGMENT_CACHE = "`private, max-age=<the token's remaining life>, immutable`"


def playlist_doc(summary, example):
    """A playlist: text with ranges, ETag and 304 as on the media route, never cached."""
    doc = _with_cache_control(bytes_doc(PLAYLIST_TYPE, summary), PLAYLIST_CACHE)
    doc["responses"]["200"]["content"] = {
        PLAYLIST_TYPE: {"schema": {"type": "string"}, "example": example}
    }
    return doc


def segment_doc():
    """A segment: encrypted MPEG-TS bytes served as the media file is, immutable."""
    summary = "An AES-128-CBC encrypted MPEG-TS segment"
    return _with_cache_control(bytes_doc(SEGMENT_TYPE, summary), SEGMENT_CACHE)


KEY_DOC = {
    "parameters": [TOKEN_PARAMETER],
    "security": [],
    "responses": {
        "200": {
            "description": f"The {KEY_BYTES}-byte AES-128 key of the video's segments "
            "(no Range, no conditional request: never cached)",
            "headers": {
                "Cache-Control": {**STRING, "description": "`private, no-store`"},
                "Content-Length": {**STRING, "description": str(KEY_BYTES)},
            },
            "content": {
                "application/octet-stream": {
                    "schema": {
                        "type": "string",
                        "format": "binary",
                        "minLength": KEY_BYTES,
                        "maxLength": KEY_BYTES,
                    }
                }
            },
        }
    },
}


def _with_cache_control(doc, description):
    """``doc`` whose answers with a body or a 304 say what their Cache-Control holds."""
    doc = copy.deepcopy(doc)
    for status in ("200", "206", "304"):
        headers = doc["responses"][status]["headers"]
        headers["Cache-Control"] = {**STRING, "description": description}
    return doc
