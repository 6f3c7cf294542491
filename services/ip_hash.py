"""Client addresses as keyed hashes: nothing the app stores holds a raw IP address.

``of(address)`` is HMAC-SHA256 under ``IP_HASH_KEY``, cut to 16 bytes (32 hex digits): the same
address gives the same value (sessions, the audit log and the rate limiter's keys can be
matched), and without the key it cannot be reversed by trying the 2^32 IPv4 addresses. With
``IP_HASH_KEY`` unset the key is derived from ``SECRET_KEY`` (an HMAC under its own label), so
production, which requires a strong ``SECRET_KEY``, always hashes under a secret key; setting
``IP_HASH_KEY`` lets the hashes outlive a rotation of ``SECRET_KEY``.
"""

import hashlib
import hmac
from functools import lru_cache

from flask import current_app

HEX_DIGITS = 32
DERIVATION_LABEL = b"video-app:ip-hash-key"


def of(address):
    """The keyed hash of ``address`` (None when there is none)."""
    if not address:
        return None
    config = current_app.config
    return _hash(config["IP_HASH_KEY"] or _derived(config["SECRET_KEY"]), address)


@lru_cache(maxsize=8)
def _derived(secret_key):
    return hmac.new(secret_key.encode(), DERIVATION_LABEL, hashlib.sha256).hexdigest()


@lru_cache(maxsize=4096)
def _hash(key, address):
    digest = hmac.new(key.encode(), address.encode(), hashlib.sha256).hexdigest()
    return digest[:HEX_DIGITS]
