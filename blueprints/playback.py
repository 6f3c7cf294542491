"""/video/{id}: the stream JSON, playback tokens, and the media and thumbnail bytes."""

from flask import request

from blueprints.common import stored_bytes
from blueprints.common.byte_routes import WATCH_403, byte_route
from blueprints.schemas.media_docs import TOKEN_PARAMETER
from blueprints.schemas.videos import (
    PlaybackTokenSchema,
    ShareKeyArgs,
    StreamArgs,
    StreamSchema,
)
from services import playback
from web.api import ApiBlueprint
from web.guards import auth_required, current_caller

blp = ApiBlueprint("playback", __name__, url_prefix="/video", description="Playback")

# Here the access token is the credential; the playback token says which session may play.
STREAM_TOKEN_PARAMETER = {
    **TOKEN_PARAMETER,
    "description": "The video's playback token (from the dashboard or "
    "POST /video/{id}/playback-token); the Bearer access token is required too",
}
STREAM_KEY_PARAMETER = {
    "in": "query",
    "name": "key",
    "required": False,
    "description": "An unlisted video's share key, when the playback token was not issued "
    "with it (a token issued with the key needs nothing more)",
    "schema": {"type": "string", "minLength": 1, "maxLength": 100},
}
HIDDEN_404 = (
    "Unknown or deleted video, or one hidden from the caller (private, or unlisted without its key)"
)
STREAM_403 = (
    "The playback token is refused (the caller stays signed in): "
    "`playback_token_invalid` (not a playback token, or tampered with), "
    "`playback_token_expired`, "
    "`playback_token_revoked` (the session it was issued under has ended), "
    "`playback_token_wrong_video`, `playback_token_wrong_user`, "
    "`playback_token_preview_only` (a locked listing item's thumbnail token); "
    "or the caller may not watch the video: "
)


@blp.route("/<objectid:video_id>/stream", methods=["GET"])
@auth_required()
@blp.arguments(StreamArgs, location="query")
# Both written by hand: the documented list replaces the schema's (token is required there:
# a missing one is 400 missing_token).
@blp.doc(parameters=[STREAM_TOKEN_PARAMETER, STREAM_KEY_PARAMETER])
@blp.response(200, StreamSchema)
@blp.alt_response(400, description="No playback token (`missing_token`)")
@blp.alt_response(403, description=STREAM_403 + WATCH_403)
@blp.alt_response(404, description=HIDDEN_404)
@blp.alt_response(409, description="The video is not ready")
def stream(args, video_id):
    """Where to play a video: the absolute, signed ``stream_url`` the app's WebView opens.

    401 concerns only the access token (or its session): clients log out on it. A bad
    playback token is a 403 whose code says why; get a new one from the dashboard or
    ``POST /video/{id}/playback-token``.
    """
    return playback.stream_info(current_caller(), video_id, args["token"], args.get("key"))


@blp.route("/<objectid:video_id>/playback-token", methods=["POST"])
@auth_required()
@blp.arguments(ShareKeyArgs, location="query")
@blp.response(200, PlaybackTokenSchema)
@blp.alt_response(403, description="The caller may not watch the video: " + WATCH_403)
@blp.alt_response(404, description=HIDDEN_404)
@blp.alt_response(409, description="The video is not ready")
def new_playback_token(args, video_id):
    """A fresh playback token for one video, and its media URL.

    Someone else's unlisted video needs ``?key=<share key>``; the token then plays it
    (media, thumbnail, ``/stream``) until the key is replaced.
    """
    return playback.playback_token_for(current_caller(), video_id, args.get("key"))


@blp.route("/<objectid:video_id>/media", methods=["GET"])
@byte_route(blp, "video/mp4", "The video (audio: audio/mp4 or audio/mpeg)")
def media(args, video_id):
    """The video's bytes, with HTTP Range (GET and HEAD); the token is the only credential."""
    found = playback.media(args["token"], video_id, count_view=request.method == "GET")
    return stored_bytes.serve(found)


@blp.route("/<objectid:video_id>/thumbnail", methods=["GET"])
@byte_route(blp, "image/jpeg", "The JPEG thumbnail")
def thumbnail(args, video_id):
    """The JPEG thumbnail; signed by the playback token like the media URL."""
    return stored_bytes.serve(playback.thumbnail(args["token"], video_id))
