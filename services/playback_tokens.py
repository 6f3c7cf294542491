"""Playback tokens: minted for a signed-in user and a video, checked on every media request.

A playback token is the only credential of the media and thumbnail URLs
(players and ``<Image>`` send no header), so it is bound to one user, one
video and the login session it was issued under: logout ends it too.

How a bad one is refused depends on whether it is the caller's credential.
On the media and thumbnail routes it is: 401 when it is invalid, expired or
its session has ended, 403 when it is for another video. On ``/stream`` the
access token has already proven who calls, and 401 means "log in again" to
every client (the mobile app signs out on it): a bad playback token there is
a 403 whose code says what is wrong with it, so the app can fetch a new one.
"""

import dataclasses

from models import session as sessions
from services import accounts, tokens
from services.errors import Forbidden, InvalidInput

# The 403 codes of a playback token refused to a signed-in caller (``/stream``).
INVALID = "playback_token_invalid"
EXPIRED = "playback_token_expired"
REVOKED = "playback_token_revoked"
WRONG_VIDEO = "playback_token_wrong_video"
WRONG_USER = "playback_token_wrong_user"


def issue(principal, video_id, duration_seconds=None, key_digest=None):
    """A playback token; ``key_digest`` (services.videos.share_key_digest) when it was
    asked for with an unlisted video's share key."""
    return tokens.mint_playback(
        principal.user_id, principal.session_id, video_id, duration_seconds, key_digest
    )


def verify(token, video_id, principal=None):
    """The principal behind a playback token for ``video_id``.

    400 without a token. Alone (``principal`` None: the media routes), 401 when
    it is invalid, expired or its session is revoked and 403 when it was issued
    for another video. With the signed-in caller's ``principal`` (``/stream``),
    every refusal is a 403 (see the module's docstring).
    """
    if not token:
        raise InvalidInput("A playback token is required (?token=...).", code="missing_token")
    if principal is None:
        return _verify_alone(token, video_id)
    return _verify_for(principal, token, video_id)


def _verify_alone(token, video_id):
    claims = tokens.decode(token, tokens.PLAYBACK)
    if claims.get("vid") != str(video_id):
        raise Forbidden("This playback token is for another video.", code="token_wrong_video")
    return accounts.principal_for(claims)


def _verify_for(principal, token, video_id):
    try:
        claims = tokens.decode(token, tokens.PLAYBACK)
    except tokens.ExpiredToken as error:
        raise Forbidden(
            "This playback token has expired; ask for a new one.", code=EXPIRED
        ) from error
    except tokens.InvalidToken as error:
        raise Forbidden("This playback token is invalid.", code=INVALID) from error
    if claims.get("vid") != str(video_id):
        raise Forbidden("This playback token is for another video.", code=WRONG_VIDEO)
    if claims["sub"] != principal.user_id:
        raise Forbidden("This playback token belongs to another user.", code=WRONG_USER)
    # The caller's access token has just proven its own session alive; a token from
    # another session of the same user (another device) is checked here.
    if claims["sid"] != principal.session_id and sessions.find_active(claims["sid"]) is None:
        raise Forbidden(
            "This playback token was issued to a session that has ended; ask for a new one.",
            code=REVOKED,
        )
    return dataclasses.replace(principal, session_id=claims["sid"], claims=claims)
