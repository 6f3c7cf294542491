"""bcrypt hashing with a configurable cost, and a timing-safe miss.

bcrypt only reads 72 bytes; longer passwords are refused upstream (the
schemas) rather than silently cut, and ``check`` treats them as a miss.
"""

from functools import lru_cache

import bcrypt
from flask import current_app

MAX_PASSWORD_BYTES = 72


def _rounds():
    return current_app.config["BCRYPT_ROUNDS"]


def hash_password(password):
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(_rounds())).decode("ascii")


@lru_cache(maxsize=8)
def _dummy_hash(rounds):
    return bcrypt.hashpw(b"no such account", bcrypt.gensalt(rounds))


def check(password, password_hash):
    """True when ``password`` matches; without a hash, spend the same time and say no.

    Comparing against a dummy hash of the same cost makes "unknown email" and
    "wrong password" take about the same time, so timing does not reveal
    which emails have accounts.
    """
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_PASSWORD_BYTES:
        encoded = encoded[:MAX_PASSWORD_BYTES]  # only to spend the time; the answer is no
        password_hash = None
    if not password_hash:
        bcrypt.checkpw(encoded, _dummy_hash(_rounds()))
        return False
    return bcrypt.checkpw(encoded, password_hash.encode("ascii"))
