"""What every route that serves bytes to players shares: the playback token as the only
credential (``?token=``), the per-token rate limit, and the OpenAPI of their refusals.

Used by the media and thumbnail routes (blueprints/playback.py) and the HLS routes
(blueprints/hls.py), so a player meets the same rules whichever URL it was given.
"""

import functools

import marshmallow as ma
from flask import request

from blueprints.common import byte_limits
from blueprints.schemas.media_docs import bytes_doc
from blueprints.schemas.videos import PlaybackTokenArgs
from services import tokens
from web.audit import rate_limit_key
from web.security_headers import for_players


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


WATCH_403 = (
    "`purchase_required` (a paid video: buy it, or a priced course with it) or "
    "`subscription_required` (subscribe to its creator), with `details {access, price, "
    "currency}` and `course_ids` (paid) or `creator_id` (subscribers)"
)
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


def byte_route(blp, media_type, summary, errors=None, doc=None):
    """The token argument, the per-token limit and the OpenAPI of a route of ``blp`` that
    serves bytes; ``errors`` replaces descriptions of BYTE_ROUTE_ERRORS, ``doc`` the
    Range-aware OpenAPI of bytes_doc (a route that answers no ranges)."""
    described = {**BYTE_ROUTE_ERRORS, **(errors or {})}

    def decorate(view):
        documented = view
        for status, description in described.items():
            documented = blp.alt_response(status, description=description)(documented)
        documented = blp.doc(**(doc or bytes_doc(media_type, summary)))(documented)
        documented = blp.arguments(PlaybackTokenArgs, location="query", unknown=ma.EXCLUDE)(
            documented
        )
        served = with_token_arg(view)
        served._apidoc = documented._apidoc  # what flask-smorest documents: all of the above
        return for_players(byte_limits.per_token("RATELIMIT_MEDIA", playback_token_key)(served))

    return decorate


def with_token_arg(view):
    """``view(args, **view_args)`` with ``args`` as flask-smorest's ``PlaybackTokenArgs`` load
    (``unknown=EXCLUDE``) gives it: ``{"token": the first ?token= or None}``, which no query
    string can fail (a query value is always a string; one that is not UTF-8 is refused by
    ``request.args`` itself). Written by hand for speed: webargs' parse and the wrappers
    of the decorators above (each looking ``current_app`` up) were ~15% of a short media
    range's CPU (py-spy on the workers, bench/ranges.py); the decorators still make the
    OpenAPI, whose ``_apidoc`` the route carries."""

    @functools.wraps(view)
    def served(*args, **kwargs):
        return view({"token": request.args.get("token")}, *args, **kwargs)

    return served
