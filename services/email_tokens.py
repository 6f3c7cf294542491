"""Mailed single-use tokens: made, stored as a hash, redeemed once (models/email_tokens.py).

A token is 256 random bits; only its SHA-256 is stored. That is enough here: a token is
not a password, nobody picks it, and guessing one means guessing 256 bits.
"""

import hashlib
import secrets

from models import email_tokens
from models.common import utcnow
from services.errors import InvalidInput


class InvalidToken(InvalidInput):
    """400, never 401: the token is the request's input, not the caller's credential."""

    code = "invalid_or_expired_token"
    message = "This link is invalid or has expired; ask for a new one."


def digest(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token():
    """(token, its digest): the work of making one, the same for every caller."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def issue(kind, user_id, lifetime, email, from_email=None, made=None):
    """A new token of ``kind`` for the user (older ones of that kind stop working)."""
    token, token_hash = made or new_token()
    expires_at = utcnow() + lifetime
    email_tokens.replace(kind, user_id, token_hash, expires_at, email, from_email)
    return token


def redeem(kinds, token):
    """The token's document, now used; InvalidToken (400) when it is not usable."""
    if not isinstance(token, str) or not token:
        raise InvalidToken()
    record = email_tokens.use(kinds, digest(token), utcnow())
    if record is None:
        raise InvalidToken()
    return record
