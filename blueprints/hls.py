"""/video/{id}/hls/...: the encrypted HLS ladder (docs/playback.md#hls).

The playback token in the query is the only credential of every route, as on the media
route (blueprints/common/byte_routes.py): same refusals, same per-token limit. Playlists embed
that token in every URI, so no cache may keep them; segments are immutable for as long as
the token lives; the key is never cached.
"""

from flask import Response, request

from blueprints.common import stored_bytes
from blueprints.common.byte_routes import byte_route
from blueprints.schemas import hls_docs
from blueprints.schemas.hls_docs import HLS_ERRORS, KEY_ERRORS, NOT_STORED
from services import hls
from web import media_response
from web.api import ApiBlueprint

blp = ApiBlueprint(
    "hls", __name__, url_prefix="/video", description="Playback by HLS: playlists, segments, key"
)
MASTER_DOC = hls_docs.playlist_doc("The master playlist", hls_docs.MASTER_EXAMPLE)
MEDIA_DOC = hls_docs.playlist_doc("A rendition's media playlist", hls_docs.MEDIA_EXAMPLE)


def _not_stored(response):
    response.headers["Cache-Control"] = NOT_STORED
    return response


@blp.route("/<objectid:video_id>/hls/master.m3u8", methods=["GET"])
@byte_route(blp, hls.PLAYLIST_TYPE, "The master playlist", HLS_ERRORS, doc=MASTER_DOC)
def master(args, video_id):
    """The HLS master playlist: what ``hls_url`` points at.

    One ``#EXT-X-STREAM-INF`` per rendition, each followed by a relative URI carrying the
    token. Its GET counts the view as the media GET does.
    """
    count = request.method == "GET"
    found = hls.master(args["token"], video_id, count_view=count)
    return _not_stored(media_response.serve(found, hls.HeldBytes))


@blp.route("/<objectid:video_id>/hls/<rendition>/index.m3u8", methods=["GET"])
@byte_route(blp, hls.PLAYLIST_TYPE, "A rendition's media playlist", HLS_ERRORS, doc=MEDIA_DOC)
def media_playlist(args, video_id, rendition):
    """A rendition's media playlist.

    Its segments, each AES-128 encrypted with its own IV, and the key's URI
    (``../key?token=``); a VOD playlist ending with ``#EXT-X-ENDLIST``.
    """
    found = hls.media_playlist(args["token"], video_id, rendition)
    return _not_stored(media_response.serve(found, hls.HeldBytes))


@blp.route("/<objectid:video_id>/hls/<rendition>/<int:n>.ts", methods=["GET"])
@byte_route(blp, hls.SEGMENT_TYPE, "A segment", HLS_ERRORS, doc=hls_docs.segment_doc())
def segment(args, video_id, rendition, n):
    """Segment ``n`` of a rendition (``00007.ts`` or ``7.ts``).

    Ranges, a strong ETag and 304 as on the media route; immutable for the token's life.
    """
    found = hls.segment(args["token"], video_id, rendition, n)
    response = stored_bytes.serve(found)
    response.headers["Cache-Control"] += ", immutable"
    return response


@blp.route("/<objectid:video_id>/hls/key", methods=["GET"])
@byte_route(blp, "application/octet-stream", "The key", KEY_ERRORS, doc=hls_docs.KEY_DOC)
def key(args, video_id):
    """The segments' AES-128 key.

    Only to a live session that may watch the video, as every segment; never cached.
    """
    secret = hls.key(args["token"], video_id)
    headers = {"Cache-Control": NOT_STORED, "Content-Length": str(len(secret))}
    return Response(secret, mimetype="application/octet-stream", headers=headers)
