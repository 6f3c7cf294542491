"""The ``deleted_accounts`` collection: the tombstone of each deleted account, and the lease of
the job that removes what the account left behind.

A deletion moves the account out of ``users``: the tombstone (same ``_id``, no name, no
email, no password hash) is inserted first, then the user document is deleted. From that
delete on, every token of the account is refused (no such user) and its email is free for a
new signup (the unique index on ``users.email`` no longer holds it). Records that must
outlive the person (audit entries, money) keep pointing at the ``_id``, which now names
"a deleted account".

While ``pending``, the removal job holds a lease (``lease_owner``, ``lease_until``) that a
heartbeat renews; a process that dies leaves it to run out, and the sweep hands the
deletion to a new job (services.account_deletion).
"""

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from models.common import utcnow
from models.db import get_db


def collection():
    return get_db().deleted_accounts


def create_indexes(database):
    database.deleted_accounts.create_index(
        [("pending", ASCENDING), ("lease_until", ASCENDING)], name="pending_lease"
    )


def start(user, requested_by, owner, lease):
    """Insert the tombstone of ``user`` with its job's lease held by ``owner``; False when the
    account already has one (a deletion under way or done)."""
    now = utcnow()
    try:
        collection().insert_one(
            {
                "_id": user["_id"],
                "created_at": user.get("created_at"),
                "deleted_at": now,
                "requested_by": requested_by,
                "pending": True,
                "lease_owner": owner,
                "lease_until": now + lease,
            }
        )
    except DuplicateKeyError:
        return False
    return True


def find(user_id):
    return collection().find_one({"_id": user_id})


def claim(user_id, lease, owner):
    """Take a pending deletion whose lease ran out; True when ``owner`` holds it now."""
    now = utcnow()
    result = collection().update_one(
        {"_id": user_id, "pending": True, "lease_until": {"$lt": now}},
        {"$set": {"lease_until": now + lease, "lease_owner": owner}},
    )
    return result.modified_count == 1


def _held_by(user_id, owner):
    return {"_id": user_id, "pending": True, "lease_owner": owner}


def renew(user_id, lease, owner):
    """Extend ``owner``'s lease; False when it is no longer theirs."""
    result = collection().update_one(
        _held_by(user_id, owner), {"$set": {"lease_until": utcnow() + lease}}
    )
    return result.matched_count == 1


def finish(user_id, owner):
    """The deletion is complete: the tombstone keeps only its ``_id`` and dates."""
    result = collection().update_one(
        _held_by(user_id, owner),
        {
            "$set": {"pending": False, "finished_at": utcnow()},
            "$unset": {"lease_owner": "", "lease_until": ""},
        },
    )
    return result.modified_count == 1


def abandoned(limit=20):
    """Ids of pending deletions whose job's lease ran out (its process died)."""
    found = collection().find(
        {"pending": True, "lease_until": {"$lt": utcnow()}}, {"_id": 1}, limit=limit
    )
    return [document["_id"] for document in found]


# What a deletion removes besides the account's videos, each (collection, field naming the
# user); a new kind of per-user record is one more line here (and in the export). Reactions
# are not here: each moves a video's counts, so services.erasure.remove_reactions clears them
# one by one as a DELETE would.
OWNED_BY_ACCOUNT = (
    ("sessions", "user_id"),
    ("playback_views", "user_id"),
    ("recent_views", "user_id"),
    ("email_tokens", "user_id"),
    ("courses", "owner_id"),  # a creator's courses go with its videos
    ("subscription_plans", "_id"),
    ("watch_progress", "user_id"),
)


def remove_owned(user_id):
    """Delete every record in OWNED_BY_ACCOUNT that names ``user_id``; how many went."""
    database = get_db()
    return sum(
        database[name].delete_many({field: user_id}).deleted_count
        for name, field in OWNED_BY_ACCOUNT
    )
