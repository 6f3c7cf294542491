"""The ``subscriptions`` collection: a viewer's monthly subscription to one creator.

A subscription document::

    {_id, user_id, creator_id, amount, currency,
     status: "pending"|"active"|"ended"|"failed", cancel_at_period_end: bool,
     current_period_end, payment_id, created_at, ended_at,
     holding: "<user id>:<creator id>"}

It opens the creator's ``subscribers`` videos while ``active`` and before
``current_period_end``; a cancelled one stays active until then (access until the end of
the paid period), a renewal moves the end on, a failed renewal ends it. ``holding`` is
present while pending or active, under a unique sparse index: one live subscription per
user and creator.
"""

from pymongo import ASCENDING, DESCENDING

from models.common import utcnow
from models.db import get_db

PENDING, ACTIVE, ENDED, FAILED = "pending", "active", "ended", "failed"


def collection():
    return get_db().subscriptions


def create_indexes(database):
    subscriptions = database.subscriptions
    subscriptions.create_index([("holding", ASCENDING)], name="holding", unique=True, sparse=True)
    subscriptions.create_index(
        [("user_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)], name="by_user"
    )
    subscriptions.create_index(
        [("status", ASCENDING), ("current_period_end", ASCENDING)], name="due"
    )
    subscriptions.create_index([("creator_id", ASCENDING), ("status", ASCENDING)], name="creator")
    subscriptions.create_index([("user_id", ASCENDING), ("status", ASCENDING)], name="user_status")


def holding_key(user_id, creator_id):
    return f"{user_id}:{creator_id}"


def is_active(user_id, creator_id, now=None):
    """Whether ``user_id`` subscribes to ``creator_id`` now: one lookup by ``holding``."""
    found = collection().find_one(
        {
            "holding": holding_key(user_id, creator_id),
            "status": ACTIVE,
            "current_period_end": {"$gt": now or utcnow()},
        },
        {"_id": 1},
    )
    return found is not None


def end_all_of(user_id, reason):
    """End at once every live subscription ``user_id`` holds or sells (an account deletion):
    nothing renews, nobody is charged for a creator who is gone. How many ended."""
    ended = 0
    for field in ("user_id", "creator_id"):
        ended += (
            collection()
            .update_many(
                {field: user_id, "status": {"$in": [PENDING, ACTIVE]}},
                {
                    "$set": {"status": ENDED, "ended_at": utcnow(), "ended_reason": reason},
                    "$unset": {"holding": ""},
                },
            )
            .modified_count
        )
    return ended
