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
from pymongo.errors import DuplicateKeyError

from models import keyset
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
    purchases.create_index(
        [("user_id", ASCENDING), ("request_key", ASCENDING)], name="by_request_key"
    )


def holding_key(user_id, item_type, item_id):
    return f"{user_id}:{item_type}:{item_id}"


def holds_any(user_id, items):
    """Whether ``user_id`` has a succeeded purchase of any of ``items`` ((type, id) pairs):
    one lookup on the unique ``holding`` index.

    The status is checked here, not in the query: every media request of a paid video asks
    this, and on the embedded server a condition beside the indexed key costs more than the
    key alone (bench/money.py measured 3.4 ms against 0.9). At most one document per key
    matches, since only live (pending or succeeded) purchases hold one.
    """
    keys = [holding_key(user_id, item_type, item_id) for item_type, item_id in items]
    found = collection().find({"holding": {"$in": keys}}, {"status": 1, "_id": 0})
    return any(purchase.get("status") == SUCCEEDED for purchase in found)


def insert(document):
    """Insert a new (pending) purchase; None when the user already holds the item (the
    unique ``holding`` index: whichever worker inserted first wins)."""
    try:
        collection().insert_one(document)
    except DuplicateKeyError:
        return None
    return document


def find(purchase_id):
    return collection().find_one({"_id": purchase_id})


def holding(user_id, item_type, item_id):
    """The live (pending or succeeded) purchase of the item by the user, if any."""
    return collection().find_one({"holding": holding_key(user_id, item_type, item_id)})


def made_with(user_id, request_key):
    """The live purchase this user made with this ``Idempotency-Key``, if any."""
    query = {"user_id": user_id, "request_key": request_key, "status": {"$in": list(LIVE)}}
    return collection().find_one(query)


def set_payment(purchase_id, payment_id, provider):
    collection().update_one(
        {"_id": purchase_id}, {"$set": {"payment_id": payment_id, "provider": provider}}
    )


def discard(purchase_id):
    """Drop a pending purchase that never reached the provider (its payment method unknown)."""
    collection().delete_one({"_id": purchase_id, "status": PENDING, "payment_id": None})


def mark_succeeded(purchase_id, now):
    """pending -> succeeded; True if this call moved it (of two settlements, one does)."""
    result = collection().update_one(
        {"_id": purchase_id, "status": PENDING},
        {"$set": {"status": SUCCEEDED, "settled_at": now}},
    )
    return result.modified_count == 1


def mark_failed(purchase_id, reason, now):
    """pending -> failed, and the item is free to buy again (``holding`` dropped)."""
    result = collection().update_one(
        {"_id": purchase_id, "status": PENDING},
        {
            "$set": {"status": FAILED, "failure_reason": reason, "settled_at": now},
            "$unset": {"holding": ""},
        },
    )
    return result.modified_count == 1


def mark_refunded(purchase_id, now):
    """succeeded -> refunded: access ends at once (``holding`` dropped)."""
    result = collection().update_one(
        {"_id": purchase_id, "status": SUCCEEDED},
        {"$set": {"status": REFUNDED, "refunded_at": now}, "$unset": {"holding": ""}},
    )
    return result.modified_count == 1


def stale_pending(before, limit=50, after=None):
    """Pending purchases created before ``before``, oldest first (the ``by_status`` index):
    what the reconciliation sweep asks the provider about; ``after``: the (created_at, _id)
    of the previous page's last."""
    query = {"status": PENDING, "created_at": {"$lt": before}}
    if after is not None:
        created_at, last_id = after
        query = {
            "$and": [
                query,
                {
                    "$or": [
                        {"created_at": {"$gt": created_at}},
                        {"created_at": created_at, "_id": {"$gt": last_id}},
                    ]
                },
            ]
        }
    ordered = collection().find(query).sort([("created_at", ASCENDING), ("_id", ASCENDING)])
    return list(ordered.limit(limit))


def page_of_user(user_id, per_page, after=None, window=None):
    """A keyset page (models.keyset) of the user's purchases, newest first (``by_user``)."""
    return keyset.newest_first(
        collection(), {"user_id": user_id}, per_page, after=after, window=window
    )
