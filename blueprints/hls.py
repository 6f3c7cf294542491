"""/video/{id}/hls/...: the encrypted HLS ladder (docs/playback.md#hls).

The playback token in the query is the only credential of every route, as on the media
route (blueprints/common/byte_routes.py): same refusals, same per-token limit. Playlists embed
that token in every URI, so no cache may keep them; segments are immutable for as long as
the token lives; the key is never cached.
"""

from flask import Response, request

from blueprints.common.byte_routes import byte_route
from blueprints.schemas.media_docs import TOKEN_PARAMETER
from extensions import media_chunks
from services import hls
from web import media_response
from web.api import ApiBlueprint

blp = ApiBlueprint("hls", __name__, url_prefix="/video", description="Playback")

NOT_STORED = "private, no-store"
KEY_ERRORS = {
    403: "The token is for another video (`token_wrong_video`), a preview token "
    "(`token_preview_only`), or a video its user may no longer watch (refunded, "
    "subscription ended)",
    404: "Unknown or deleted video, or a video with no HLS ladder (`hls_not_found`)",
}
HLS_ERRORS = {
    **KEY_ERRORS,
    404: "Unknown or deleted video, no HLS ladder (`hls_not_found`), or no such rendition "
    "(`rendition_not_found`) or segment (`segment_not_found`)",
}
KEY_DOC = {
    "parameters": [TOKEN_PARAMETER],
    "security": [],
    "responses": {
        "200": {
            "description": "The 16-byte AES-128 key of the video's segments; never cached",
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
}


def _not_stored(response):
    response.headers["Cache-Control"] = NOT_STORED
    return response


@blp.route("/<objectid:video_id>/hls/master.m3u8", methods=["GET"])
@byte_route(blp, hls.PLAYLIST_TYPE, "The master playlist", HLS_ERRORS)
def master(args, video_id):
    """The HLS master playlist (``hls_url``): one variant per rendition; its GET counts
    the view as the media GET does."""
    count = request.method == "GET"
    found = hls.master(args["token"], video_id, count_view=count)
    return _not_stored(media_response.serve(found, hls.HeldBytes))


@blp.route("/<objectid:video_id>/hls/<rendition>/index.m3u8", methods=["GET"])
@byte_route(blp, hls.PLAYLIST_TYPE, "A rendition's media playlist", HLS_ERRORS)
def media_playlist(args, video_id, rendition):
    """A rendition's segments, each AES-128 encrypted with its own IV."""
    found = hls.media_playlist(args["token"], video_id, rendition)
    return _not_stored(media_response.serve(found, hls.HeldBytes))


@blp.route("/<objectid:video_id>/hls/<rendition>/<int:n>.ts", methods=["GET"])
@byte_route(blp, hls.SEGMENT_TYPE, "An encrypted MPEG-TS segment", HLS_ERRORS)
def segment(args, video_id, rendition, n):
    """Segment ``n``: ranges, strong ETag and 304 as on the media route; immutable."""
    found = hls.segment(args["token"], video_id, rendition, n)
    response = media_response.serve(found, media_chunks)
    response.headers["Cache-Control"] += ", immutable"
    return response


@blp.route("/<objectid:video_id>/hls/key", methods=["GET"])
@byte_route(blp, "application/octet-stream", "The key", KEY_ERRORS, doc=KEY_DOC)
def key(args, video_id):
    """The segments' AES-128 key, to a live session that may watch the video."""
    secret = hls.key(args["token"], video_id)
    headers = {"Cache-Control": NOT_STORED, "Content-Length": str(len(secret))}
    return Response(secret, mimetype="application/octet-stream", headers=headers)
