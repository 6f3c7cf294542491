"""Playback tokens: minted for a signed-in user and a video, checked on every media request.

A playback token is the only credential of the media and thumbnail URLs
(players and ``<Image>`` send no header), so it is bound to one user, one
video and the login session it was issued under: logout ends it too.
"""

import dataclasses

from services import accounts, tokens
from services.errors import Forbidden, InvalidInput


def issue(principal, video_id, duration_seconds=None):
    return tokens.mint_playback(principal.user_id, principal.session_id, video_id, duration_seconds)


def verify(token, video_id, principal=None):
    """The principal behind a playback token for ``video_id``.

    400 without a token, 401 when it is invalid, expired or its session is
    revoked, 403 when it was issued for another video or (when the caller
    is signed in too) for another user.
    """
    if not token:
        raise InvalidInput("A playback token is required (?token=...).", code="missing_token")
    claims = tokens.decode(token, tokens.PLAYBACK)
    if claims.get("vid") != str(video_id):
        raise Forbidden("This playback token is for another video.", code="token_wrong_video")
    if principal is not None and claims["sub"] != principal.user_id:
        raise Forbidden("This playback token belongs to another user.", code="token_wrong_user")
    if principal is not None and claims["sid"] == principal.session_id:
        # The caller's access token has just proven this session and user alive:
        # no need to look them up again.
        return dataclasses.replace(principal, claims=claims)
    return accounts.principal_for(claims)
