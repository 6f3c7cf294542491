"""Client addresses as keyed hashes: nothing the app stores holds a raw IP address.

``of(address)`` is HMAC-SHA256 under ``IP_HASH_KEY``, cut to 16 bytes (32 hex digits): the same
address gives the same value (sessions, the audit log and the rate limiter's keys can be
matched), and without the key it cannot be reversed by trying the 2^32 IPv4 addresses.
"""

import hashlib
import hmac
from functools import lru_cache

from flask import current_app

HEX_DIGITS = 32


def of(address):
    """The keyed hash of ``address`` (None when there is none)."""
    if not address:
        return None
    return _hash(current_app.config["IP_HASH_KEY"], address)


@lru_cache(maxsize=4096)
def _hash(key, address):
    digest = hmac.new(key.encode(), address.encode(), hashlib.sha256).hexdigest()
    return digest[:HEX_DIGITS]
