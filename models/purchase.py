"""The ``purchases`` collection: one-time purchases of a video or a course.

A purchase document::

    {_id, user_id, item: {type: "video"|"course", id}, creator_id, amount, currency,
     status: "pending"|"succeeded"|"failed"|"refunded", payment_id (the provider's),
     provider, failure_reason, created_at, settled_at, refunded_at,
     holding: "<user id>:<item type>:<item id>"}

``holding`` is present only while the purchase is pending or succeeded, under a unique
sparse index: a user holds at most one live purchase of an item, so two racing purchases of
the same thing give one purchase and one 409, whichever worker runs them. A failed or
refunded purchase drops it ($unset), and the item may be bought again.
"""

from pymongo import ASCENDING, DESCENDING

from models.db import get_db

PENDING, SUCCEEDED, FAILED, REFUNDED = "pending", "succeeded", "failed", "refunded"
LIVE = (PENDING, SUCCEEDED)


def collection():
    return get_db().purchases


def create_indexes(database):
    purchases = database.purchases
    purchases.create_index([("holding", ASCENDING)], name="holding", unique=True, sparse=True)
    purchases.create_index(
        [("user_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)], name="by_user"
    )
    purchases.create_index([("payment_id", ASCENDING)], name="payment_id", sparse=True)
    purchases.create_index([("status", ASCENDING), ("created_at", ASCENDING)], name="by_status")


def holding_key(user_id, item_type, item_id):
    return f"{user_id}:{item_type}:{item_id}"


def holds_any(user_id, items):
    """Whether ``user_id`` has a succeeded purchase of any of ``items`` ((type, id) pairs):
    one lookup on the unique ``holding`` index."""
    keys = [holding_key(user_id, item_type, item_id) for item_type, item_id in items]
    found = collection().find_one({"holding": {"$in": keys}, "status": SUCCEEDED}, {"_id": 1})
    return found is not None
