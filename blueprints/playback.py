"""/video/{id}: the stream JSON, playback tokens, and the media and thumbnail bytes."""

import hashlib

import marshmallow as ma
from flask import current_app, request

from blueprints import streaming
from blueprints.api import ApiBlueprint
from blueprints.guards import auth_required, current_principal
from blueprints.schemas.media_docs import TOKEN_PARAMETER, bytes_doc
from blueprints.schemas.videos import PlaybackTokenArgs, PlaybackTokenSchema, StreamSchema
from blueprints.security_headers import for_players
from extensions import limiter
from services import playback

blp = ApiBlueprint("playback", __name__, url_prefix="/video", description="Playback")


def playback_token_key():
    """Media is limited per playback token (a player makes many requests), not per IP.

    The key is a hash, so no usable token is ever written to the limiter's storage.
    """
    token = request.args.get("token")
    if not token:
        return f"ip:{request.remote_addr}"
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def media_limit():
    return current_app.config["RATELIMIT_MEDIA"]


# Here the access token is the credential; the playback token says which session may play.
STREAM_TOKEN_PARAMETER = {
    **TOKEN_PARAMETER,
    "description": "The video's playback token (from the dashboard or "
    "POST /video/{id}/playback-token); the Bearer access token is required too",
}
STREAM_403 = (
    "The playback token is refused (the caller stays signed in): "
    "`playback_token_invalid` (not a playback token, or tampered with), "
    "`playback_token_expired`, "
    "`playback_token_revoked` (the session it was issued under has ended), "
    "`playback_token_wrong_video`, `playback_token_wrong_user`"
)


@blp.route("/<objectid:video_id>/stream", methods=["GET"])
@auth_required()
@blp.arguments(PlaybackTokenArgs, location="query")
@blp.doc(parameters=[STREAM_TOKEN_PARAMETER])  # required: a missing one is 400 missing_token
@blp.response(200, StreamSchema)
@blp.alt_response(400, description="No playback token (`missing_token`)")
@blp.alt_response(403, description=STREAM_403)
@blp.alt_response(404, description="Unknown or deleted video")
@blp.alt_response(409, description="The video is not ready")
def stream(args, video_id):
    """Where to play a video: the absolute, signed ``stream_url`` the app's WebView opens.

    401 concerns only the access token (or its session): clients log out on it. A bad
    playback token is a 403 whose code says why; get a new one from the dashboard or
    ``POST /video/{id}/playback-token``.
    """
    return playback.stream_info(current_principal(), video_id, args["token"])


@blp.route("/<objectid:video_id>/playback-token", methods=["POST"])
@auth_required()
@blp.response(200, PlaybackTokenSchema)
@blp.alt_response(404, description="Unknown or deleted video")
@blp.alt_response(409, description="The video is not ready")
def new_playback_token(video_id):
    """A fresh playback token for one video, and its media URL."""
    return playback.new_session(current_principal(), video_id)


BYTE_ROUTE_ERRORS = {
    400: "No playback token (`missing_token`)",
    401: "The playback token, this route's only credential, is invalid (`invalid_token`), "
    "expired (`token_expired`) or its session has ended (`session_revoked`)",
    403: "The token is for another video (`token_wrong_video`)",
    404: "Unknown or deleted video, or no such file (an audio file has no thumbnail)",
    409: "The video is not ready",
    429: "Too many requests with this playback token",
}


def byte_route(media_type, summary):
    """The token argument, the per-token limit and the OpenAPI of a route that serves bytes."""

    def decorate(view):
        for status, description in BYTE_ROUTE_ERRORS.items():
            view = blp.alt_response(status, description=description)(view)
        view = blp.doc(**bytes_doc(media_type, summary))(view)
        view = blp.arguments(PlaybackTokenArgs, location="query", unknown=ma.EXCLUDE)(view)
        return for_players(limiter.limit(media_limit, key_func=playback_token_key)(view))

    return decorate


@blp.route("/<objectid:video_id>/media", methods=["GET"])
@byte_route("video/mp4", "The video (audio: audio/mp4 or audio/mpeg)")
def media(args, video_id):
    """The video's bytes, with HTTP Range (GET and HEAD); the token is the only credential."""
    found = playback.media(args["token"], video_id, count_view=request.method == "GET")
    return streaming.serve(found)


@blp.route("/<objectid:video_id>/thumbnail", methods=["GET"])
@byte_route("image/jpeg", "The JPEG thumbnail")
def thumbnail(args, video_id):
    """The JPEG thumbnail; signed by the playback token like the media URL."""
    return streaming.serve(playback.thumbnail(args["token"], video_id))
