"""The ``ledger`` collection: append-only money entries, one per settled payment or refund.

An entry::

    {_id: "<payment id>:<kind>", kind: "sale"|"refund", payment_id, creator_id, user_id,
     item: {type: "video"|"course"|"subscription", id}, currency, month: "YYYY-MM",
     gross, creator_share, platform_share, created_at}

Amounts are integers in the currency's minor unit; a refund's are the negated amounts of
the sale it reverses, so the two cancel exactly. Entries are never updated or deleted
(an account deletion anonymises ``user_id`` only). The ``_id`` is derived from the
payment, so recording the same settlement twice (a webhook retried, two workers, a crash
and a sweep) writes one entry: the unique ``_id`` decides, not a read before the write.
"""

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from models.db import get_db

SALE, REFUND = "sale", "refund"


def collection():
    return get_db().ledger


def create_indexes(database):
    ledger = database.ledger
    ledger.create_index([("creator_id", ASCENDING), ("month", ASCENDING)], name="by_creator")
    ledger.create_index([("month", ASCENDING)], name="by_month")


def entry_id(payment_id, kind):
    return f"{payment_id}:{kind}"


def append(entry):
    """Add ``entry`` (with its ``_id`` from entry_id) once; True if this call added it."""
    try:
        collection().insert_one(entry)
    except DuplicateKeyError:
        return False
    return True


def find(payment_id, kind):
    return collection().find_one({"_id": entry_id(payment_id, kind)})
