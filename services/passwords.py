"""Password hashing: bcrypt over a pre-hash, so that every character of a password counts.

bcrypt reads at most 72 bytes (bcrypt 5 refuses more), and a password of 8 to
128 characters may take up to 512 bytes in UTF-8. So a password is first
reduced to a fixed 44 bytes: base64 of HMAC-SHA256 of its UTF-8 bytes. Base64,
because a raw digest may contain NUL bytes; HMAC under ``PREHASH_KEY``, a fixed
and public domain-separation constant (not a secret: rotating it would lock
every account out), so that these bcrypt inputs are not plain SHA-256 digests
that a leak elsewhere could be matched against. bcrypt, with its salt and cost,
does the rest.

Stored hashes say which scheme made them: ``PREHASHED`` followed by bcrypt's own
string. A hash without it is from before the pre-hash (plain bcrypt of the raw
password, at most 72 bytes): it is checked the old way, and ``needs_upgrade``
tells login to replace it once the password has been verified.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

import bcrypt
from flask import current_app

MIN_PASSWORD_LENGTH = 8  # characters (Unicode code points), as JSON Schema counts them
MAX_PASSWORD_LENGTH = 128
PREHASH_KEY = b"video-app password pre-hash v1"
PREHASHED = "hmac-sha256+bcrypt:"
LEGACY_MAX_BYTES = 72  # what plain bcrypt read, and what the old rule allowed


def _rounds():
    return current_app.config["BCRYPT_ROUNDS"]


def _utf8(password):
    # "surrogatepass": a lone surrogate (from the environment's surrogateescape, say)
    # still gives bytes, never an exception.
    return password.encode("utf-8", "surrogatepass")


def _prehash(password):
    digest = hmac.new(PREHASH_KEY, _utf8(password), hashlib.sha256).digest()
    return base64.b64encode(digest)


def hash_password(password):
    hashed = bcrypt.hashpw(_prehash(password), bcrypt.gensalt(_rounds()))
    return PREHASHED + hashed.decode("ascii")


@lru_cache(maxsize=8)
def _dummy_hash(rounds):
    return bcrypt.hashpw(b"no such account", bcrypt.gensalt(rounds))


def _miss():
    """Spend what a check costs, and say no."""
    bcrypt.checkpw(b"no password", _dummy_hash(_rounds()))
    return False


def check(password, password_hash):
    """True when ``password`` matches; without a hash, spend the same time and say no.

    Comparing against a dummy hash of the same cost makes "unknown email" and
    "wrong password" take about the same time, so timing does not reveal
    which emails have accounts.
    """
    if not password_hash:
        return _miss()
    if password_hash.startswith(PREHASHED):
        bcrypt_hash = password_hash[len(PREHASHED) :].encode("ascii")
        return bcrypt.checkpw(_prehash(password), bcrypt_hash)
    raw = _utf8(password)
    if len(raw) > LEGACY_MAX_BYTES:
        return _miss()  # no legacy hash was ever made of a longer password
    return bcrypt.checkpw(raw, password_hash.encode("ascii"))


def needs_upgrade(password_hash):
    """True for a hash from before the pre-hash: replace it at the next successful login."""
    return bool(password_hash) and not password_hash.startswith(PREHASHED)
