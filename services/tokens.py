"""The token service: access, refresh and playback tokens, one place for all three.

All are HS256 JWTs (PyJWT) with ``iss``, ``aud``, ``typ``, ``jti``, ``sid``,
``iat`` and ``exp``. Access and refresh tokens are signed with
``JWT_SECRET_KEY``; playback tokens with ``PLAYBACK_SECRET_KEY`` and another
audience, so neither kind can ever pass for the other. The algorithm is pinned
on decode: ``alg: none`` or an RS/HS confusion is refused by PyJWT itself.
Whether the session behind a token is still alive is the caller's question
(services.sessions), since it needs the database.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from flask import current_app

from services.errors import Unauthorized

ALGORITHM = "HS256"
ISSUER = "video-app"
ACCESS, REFRESH, PLAYBACK = "access", "refresh", "playback"
AUDIENCE = {
    ACCESS: "video-app:api",
    REFRESH: "video-app:refresh",
    PLAYBACK: "video-app:playback",
}
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti", "sub", "sid", "typ"]


class InvalidToken(Unauthorized):
    """A token that is not one of ours, of another kind, or tampered with."""

    code = "invalid_token"
    message = "The token is invalid."


class ExpiredToken(InvalidToken):
    code = "token_expired"
    message = "The token has expired."


@dataclass(frozen=True)
class Minted:
    token: str
    jti: str
    expires_at: datetime
    lifetime: timedelta


def _key(kind):
    name = "PLAYBACK_SECRET_KEY" if kind == PLAYBACK else "JWT_SECRET_KEY"
    return current_app.config[name]


def _mint(kind, subject, session_id, lifetime, extra=None):
    now = datetime.now(UTC).replace(microsecond=0)
    jti = uuid.uuid4().hex
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE[kind],
        "typ": kind,
        "sub": str(subject),
        "sid": str(session_id),
        "jti": jti,
        "iat": now,
        "exp": now + lifetime,
        **(extra or {}),
    }
    token = jwt.encode(claims, _key(kind), algorithm=ALGORITHM)
    return Minted(token=token, jti=jti, expires_at=now + lifetime, lifetime=lifetime)


def access_lifetime():
    return timedelta(minutes=current_app.config["ACCESS_TOKEN_MINUTES"])


def refresh_lifetime():
    return timedelta(days=current_app.config["REFRESH_TOKEN_DAYS"])


def playback_lifetime(duration_seconds=None):
    """1 h by default, or the video's duration plus 10 minutes when that is longer."""
    base = timedelta(minutes=current_app.config["PLAYBACK_TOKEN_MINUTES"])
    if not duration_seconds:
        return base
    return max(base, timedelta(seconds=float(duration_seconds)) + timedelta(minutes=10))


def mint_access(user_id, session_id):
    return _mint(ACCESS, user_id, session_id, access_lifetime())


def mint_refresh(user_id, session_id):
    return _mint(REFRESH, user_id, session_id, refresh_lifetime())


def mint_playback(user_id, session_id, video_id, duration_seconds=None, key_digest=None):
    lifetime = playback_lifetime(duration_seconds)
    extra = {"vid": str(video_id)}
    if key_digest:
        extra["skd"] = key_digest  # the share key it was issued with (services.videos)
    return _mint(PLAYBACK, user_id, session_id, lifetime, extra)


def decode(token, kind):
    """The verified claims of a ``kind`` token, or Unauthorized saying why not
    (ExpiredToken, InvalidToken: callers for whom the token is not the credential that
    makes a 401 turn these into their own refusal)."""
    if not isinstance(token, str) or not token:
        raise Unauthorized("Authentication required.", code="missing_token")
    try:
        claims = jwt.decode(
            token,
            _key(kind),
            algorithms=[ALGORITHM],
            audience=AUDIENCE[kind],
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError as error:
        raise ExpiredToken() from error
    except jwt.InvalidTokenError as error:
        raise InvalidToken() from error
    if claims.get("typ") != kind:
        raise InvalidToken()
    return claims
