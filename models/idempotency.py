"""The ``idempotency_keys`` collection: what one ``Idempotency-Key`` of one user answered.

A record::

    {_id, user_id, key, fingerprint (sha256 of method, path and body), status:
     "in_progress"|"done", lease_until (while in progress), response: {status, body},
     created_at, expires_at}

The unique index on (user_id, key) decides which request of a key runs, whichever worker
gets it: the others find the record and wait for its answer, or replay it. A TTL index drops
records at ``expires_at`` (``IDEMPOTENCY_KEY_HOURS``). A request that died mid-way leaves its
record in progress until ``lease_until``; then a retry takes it over (``take_over``).
"""

import secrets

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from models.common import as_utc
from models.db import get_db

IN_PROGRESS, DONE = "in_progress", "done"


def collection():
    return get_db().idempotency_keys


def create_indexes(database):
    keys = database.idempotency_keys
    keys.create_index([("user_id", ASCENDING), ("key", ASCENDING)], name="user_key", unique=True)
    keys.create_index([("expires_at", ASCENDING)], name="expiry", expireAfterSeconds=0)


def start(user_id, key, fingerprint, now, lease_until, expires_at):
    """The new record's owner token, or None when the key already has a record."""
    owner = secrets.token_hex(16)
    try:
        collection().insert_one(
            {
                "user_id": user_id,
                "key": key,
                "fingerprint": fingerprint,
                "status": IN_PROGRESS,
                "owner": owner,
                "lease_until": lease_until,
                "created_at": now,
                "expires_at": expires_at,
            }
        )
    except DuplicateKeyError:
        return None
    return owner


def find(user_id, key):
    record = collection().find_one({"user_id": user_id, "key": key})
    if record is not None and record.get("lease_until") is not None:
        record["lease_until"] = as_utc(record["lease_until"])
    return record


def take_over(record, lease_until):
    """The new owner token if ``record``'s lease (as read) still stood unchanged, else None:
    of two retries that find the same dead request, one takes it over."""
    owner = secrets.token_hex(16)
    result = collection().update_one(
        {"_id": record["_id"], "status": IN_PROGRESS, "owner": record["owner"]},
        {"$set": {"owner": owner, "lease_until": lease_until}},
    )
    return owner if result.modified_count == 1 else None


def finish(user_id, key, owner, status, body):
    collection().update_one(
        {"user_id": user_id, "key": key, "owner": owner},
        {
            "$set": {"status": DONE, "response": {"status": status, "body": body}},
            "$unset": {"lease_until": ""},
        },
    )


def release(user_id, key, owner):
    """Forget a request that had no answer worth keeping (the provider or database away):
    a retry with the key runs again."""
    collection().delete_one({"user_id": user_id, "key": key, "owner": owner, "status": IN_PROGRESS})
