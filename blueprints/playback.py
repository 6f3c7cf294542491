"""/video/{id}: the stream JSON, playback tokens, and the media and thumbnail bytes."""

import marshmallow as ma
from flask import current_app, request

from blueprints.schemas.media_docs import TOKEN_PARAMETER, bytes_doc
from blueprints.schemas.videos import (
    PlaybackTokenArgs,
    PlaybackTokenSchema,
    ShareKeyArgs,
    StreamArgs,
    StreamSchema,
)
from extensions import limiter, media_chunks
from services import playback, tokens
from web import media_response
from web.api import ApiBlueprint
from web.audit import rate_limit_key
from web.guards import auth_required, current_caller
from web.security_headers import for_players

blp = ApiBlueprint("playback", __name__, url_prefix="/video", description="Playback")


def playback_token_key():
    """Media is limited per playback token (a player makes many requests), not per IP.

    The key is the verified token's ``jti``, not its text: a decoder tolerates variants of
    one token (padding, for one), and each text would get a budget of its own. A token that
    does not verify is counted against its address, in a bucket of its own, so junk tokens
    are no way around the limit. No usable token is ever written to the limiter's storage.
    """
    token = request.args.get("token")
    if not token:
        return rate_limit_key()
    try:
        return "token:" + tokens.decode(token, tokens.PLAYBACK)["jti"]
    except tokens.InvalidToken:
        return "invalid-token:" + rate_limit_key()


def media_limit():
    return current_app.config["RATELIMIT_MEDIA"]


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
WATCH_403 = (
    "`purchase_required` (a paid video: buy it, or a priced course with it) or "
    "`subscription_required` (subscribe to its creator), with `details {access, price, "
    "currency}` and `course_ids` (paid) or `creator_id` (subscribers)"
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


BYTE_ROUTE_ERRORS = {
    400: "No playback token (`missing_token`)",
    401: "The playback token, this route's only credential, is invalid (`invalid_token`), "
    "expired (`token_expired`) or its session has ended (`session_revoked`)",
    403: "The token is for another video (`token_wrong_video`); media only: a preview token "
    "(`token_preview_only`), or a video its user may no longer watch (refunded, subscription "
    "ended): " + WATCH_403,
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
    return media_response.serve(found, media_chunks)


@blp.route("/<objectid:video_id>/thumbnail", methods=["GET"])
@byte_route("image/jpeg", "The JPEG thumbnail")
def thumbnail(args, video_id):
    """The JPEG thumbnail; signed by the playback token like the media URL."""
    return media_response.serve(playback.thumbnail(args["token"], video_id), media_chunks)
