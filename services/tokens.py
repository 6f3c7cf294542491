"""The token service: access, refresh and playback tokens, one place for all three.

All are HS256 JWTs (PyJWT) with ``iss``, ``aud``, ``typ``, ``jti``, ``sid``,
``iat`` and ``exp``. Access and refresh tokens are signed with
``JWT_SECRET_KEY``; playback tokens with ``PLAYBACK_SECRET_KEY`` and another
audience, so neither kind can ever pass for the other. The algorithm is pinned
on decode: ``alg: none`` or an RS/HS confusion is refused by PyJWT itself.
Whether the session behind a token is still alive is the caller's question
(services.sessions), since it needs the database.
"""

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from flask import current_app

from models.common import as_utc
from services.errors import Unauthorized
from services.recent import Recent

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
    issued_at: datetime
    expires_at: datetime

    @property
    def lifetime(self):
        return self.expires_at - self.issued_at


@dataclass(frozen=True)
class Pair:
    """An access token and the refresh token issued with it (login and refresh)."""

    access: Minted
    refresh: Minted

    def claims_record(self):
        """What re-issues this very pair (``reissue_pair``): its jtis and times, never a
        token, so nothing usable is stored in the database."""
        return {
            "issued_at": self.access.issued_at,
            "access_jti": self.access.jti,
            "access_expires_at": self.access.expires_at,
            "refresh_jti": self.refresh.jti,
            "refresh_expires_at": self.refresh.expires_at,
        }


def _key(kind):
    name = "PLAYBACK_SECRET_KEY" if kind == PLAYBACK else "JWT_SECRET_KEY"
    return current_app.config[name]


def _now():
    return datetime.now(UTC).replace(microsecond=0)  # JWT times are whole seconds


def _mint(kind, subject, session_id, lifetime, extra=None):
    now = _now()
    return _sign(kind, subject, session_id, uuid.uuid4().hex, now, now + lifetime, extra)


def _sign(kind, subject, session_id, jti, issued_at, expires_at, extra=None):
    """The token of these claims. HS256 is deterministic: the same claims give the same
    string, which is how a refresh retry gets the very pair it raced for."""
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE[kind],
        "typ": kind,
        "sub": str(subject),
        "sid": str(session_id),
        "jti": jti,
        "iat": issued_at,
        "exp": expires_at,
        **(extra or {}),
    }
    token = jwt.encode(claims, _key(kind), algorithm=ALGORITHM)
    return Minted(token=token, jti=jti, issued_at=issued_at, expires_at=expires_at)


def access_lifetime():
    return timedelta(minutes=current_app.config["ACCESS_TOKEN_MINUTES"])


def refresh_lifetime():
    return timedelta(days=current_app.config["REFRESH_TOKEN_DAYS"])


# Time to start a video after its token is minted, on top of its duration.
PLAYBACK_START_MARGIN = timedelta(minutes=10)


def playback_lifetime(duration_seconds=None):
    """1 h by default, or the video's duration plus 10 minutes when that is longer, and
    never more than ``PLAYBACK_TOKEN_MAX_HOURS``.

    The duration is whatever a file's header claimed: a 55 KB MP4 can claim 13,600 years,
    which overflowed ``datetime`` (a 500 on every list that showed it). So it is clamped
    before any arithmetic, and one that is not a finite number of seconds (NaN, a string,
    a negative) counts as unknown. Never raises.
    """
    base = timedelta(minutes=current_app.config["PLAYBACK_TOKEN_MINUTES"])
    ceiling = timedelta(hours=current_app.config["PLAYBACK_TOKEN_MAX_HOURS"])
    seconds = _finite_seconds(duration_seconds)
    if seconds is None:
        return min(base, ceiling)
    wanted_seconds = min(seconds, ceiling.total_seconds())  # small enough for a timedelta
    return min(max(base, timedelta(seconds=wanted_seconds) + PLAYBACK_START_MARGIN), ceiling)


def _finite_seconds(value):
    """``value`` as a non-negative number of seconds (inf stays inf), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:  # an integer beyond any float
        return math.inf
    return seconds if seconds >= 0 else None  # NaN compares False: None too


def mint_access(user_id, session_id):
    return _mint(ACCESS, user_id, session_id, access_lifetime())


def mint_refresh(user_id, session_id):
    return _mint(REFRESH, user_id, session_id, refresh_lifetime())


def mint_pair(user_id, session_id):
    now = _now()  # one moment for both: the claims record keeps one ``issued_at``

    def mint(kind, lifetime):
        return _sign(kind, user_id, session_id, uuid.uuid4().hex, now, now + lifetime)

    return Pair(access=mint(ACCESS, access_lifetime()), refresh=mint(REFRESH, refresh_lifetime()))


def reissue_pair(user_id, session_id, record):
    """The pair ``Pair.claims_record`` described, token for token."""

    def sign(kind):
        jti, expires_at = record[f"{kind}_jti"], as_utc(record[f"{kind}_expires_at"])
        return _sign(kind, user_id, session_id, jti, as_utc(record["issued_at"]), expires_at)

    return Pair(access=sign(ACCESS), refresh=sign(REFRESH))


def mint_playback(user_id, session_id, video_id, duration_seconds=None, key_digest=None):
    lifetime = playback_lifetime(duration_seconds)
    extra = {"vid": str(video_id)}
    if key_digest:
        extra["skd"] = key_digest  # the share key it was issued with (services.access)
    return _mint(PLAYBACK, user_id, session_id, lifetime, extra)


# Playback tokens this process has verified, with their claims: a player sends one token with
# every range, and verifying its signature and claims again cost more than the rest of a
# cached range (bench/ranges.py). Keyed by the key too (tests run apps with other keys).
_verified_playback = Recent(10_000)


def decode(token, kind):
    """The verified claims of a ``kind`` token, or Unauthorized saying why not
    (ExpiredToken, InvalidToken: callers for whom the token is not the credential that
    makes a 401 turn these into their own refusal)."""
    if not isinstance(token, str) or not token:
        raise Unauthorized("Authentication required.", code="missing_token")
    if kind != PLAYBACK:
        return _verified(token, kind)
    memo_key = (_key(kind), token)
    claims = _verified_playback.get(memo_key)
    if claims is None:
        claims = _verified(token, kind)
        _verified_playback.remember(memo_key, claims)
    elif claims["exp"] <= datetime.now(UTC).timestamp():  # what PyJWT would say now
        raise ExpiredToken()
    return dict(claims)


def _verified(token, kind):
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
