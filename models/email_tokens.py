"""The ``email_tokens`` collection: the single-use tokens that mails carry.

One store for three kinds (``VERIFY_EMAIL``, ``EMAIL_CHANGE``, ``PASSWORD_RESET``). A
document holds the kind, the user, the SHA-256 of the token (never the token), the address
it is for (``email``; for a change, the new one, with ``from_email`` the address it
replaces), ``expires_at`` (a TTL index removes it) and ``used_at``. A token is used by one
conditional update, so of two uses racing one wins.
"""

from pymongo import ASCENDING

from models.common import utcnow
from models.db import get_db

VERIFY_EMAIL = "verify_email"
EMAIL_CHANGE = "email_change"
PASSWORD_RESET = "password_reset"


def collection():
    return get_db().email_tokens


def create_indexes(database):
    tokens = database.email_tokens
    tokens.create_index([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expires_at_ttl")
    tokens.create_index([("token_hash", ASCENDING)], unique=True, name="token_hash_unique")
    tokens.create_index([("user_id", ASCENDING), ("kind", ASCENDING)], name="user_kind")


def replace(kind, user_id, token_hash, expires_at, email, from_email=None):
    """Store a new token of ``kind`` for the user; every older unused one of that kind
    stops working (a newer request supersedes it)."""
    now = utcnow()
    collection().update_many(
        {"user_id": user_id, "kind": kind, "used_at": None},
        {"$set": {"used_at": now, "superseded": True}},
    )
    document = {
        "kind": kind,
        "user_id": user_id,
        "token_hash": token_hash,
        "email": email,
        "from_email": from_email,
        "created_at": now,
        "expires_at": expires_at,
        "used_at": None,
    }
    collection().insert_one(document)
    return document


def use(kinds, token_hash, now):
    """Mark the unused, unexpired token with this hash (of one of ``kinds``) used; the
    token's document, or None when there is none such (guessed, used, expired,
    superseded)."""
    query = {
        "token_hash": token_hash,
        "kind": {"$in": list(kinds)},
        "used_at": None,
        "expires_at": {"$gt": now},
    }
    # update_one then find_one: the embedded server's find_one_and_update is slow.
    result = collection().update_one(query, {"$set": {"used_at": now}})
    if not result.modified_count:
        return None
    return collection().find_one({"token_hash": token_hash})


def void_of_user(user_id, kind):
    """Every unused token of ``kind`` for the user stops working."""
    collection().update_many(
        {"user_id": user_id, "kind": kind, "used_at": None}, {"$set": {"used_at": utcnow()}}
    )


def addresses_of(user_id):
    """Every address a token of the user was mailed to (its own, a pending new one)."""
    return set(collection().distinct("email", {"user_id": user_id}))
