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
    """The reports' indexes (below): a creator's entries in the currency by month, and all
    entries in the currency by month. New names, not ``by_creator``/``by_month`` with other
    keys, so a database that has the first version of these starts without a conflict."""
    ledger = database.ledger
    ledger.create_index(
        [("creator_id", ASCENDING), ("currency", ASCENDING), ("month", ASCENDING)],
        name="creator_month",
    )
    ledger.create_index([("currency", ASCENDING), ("month", ASCENDING)], name="currency_month")


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


# The reports: sums of the entries' amounts, grouped. Each is one aggregation whose $match
# is an index's equality prefix then its range: a creator's entries by ``creator_month``
# (creator_id and currency, then the month range), everyone's by ``currency_month`` (the
# currency, then the month range). Either reads every entry it sums: the cost grows with
# the entries in the period (all of them with no period). Refunds are negative entries,
# so they simply add in.
AMOUNTS = ("gross", "creator_share", "platform_share")


def entries_filter(currency, creator_id=None, first_month=None, last_month=None):
    """The $match of a report: one currency, optionally one creator and a month range
    (``"YYYY-MM"`` strings, both ends included)."""
    match = {"creator_id": creator_id} if creator_id is not None else {}
    months = {}
    if first_month is not None:
        months["$gte"] = first_month
    if last_month is not None:
        months["$lte"] = last_month
    if months:
        match["month"] = months
    match["currency"] = currency
    return match


def sums_by(match, key):
    """[{key, gross, creator_share, platform_share}] of the entries ``match`` selects,
    grouped by ``key`` (a field path such as ``"$month"``, or a document of them)."""
    sums = {name: {"$sum": f"${name}"} for name in AMOUNTS}
    pipeline = [{"$match": match}, {"$group": {"_id": key, **sums}}]
    return [
        {"key": group["_id"], **{name: exact(group[name]) for name in AMOUNTS}}
        for group in collection().aggregate(pipeline)
    ]


def sums_by_month(match):
    return sorted(sums_by(match, "$month"), key=lambda group: group["key"])


def sums_by_item(match):
    return sums_by(match, {"type": "$item.type", "id": "$item.id"})


def sums_by_creator(match):
    return sums_by(match, "$creator_id")


def exact(total):
    """A sum as a plain ``int``: BSON may hand back an Int64 (an int subclass), and a float
    here means an entry was written with a float amount, which the ledger never accepts."""
    if isinstance(total, bool) or not isinstance(total, int):
        raise TypeError(f"ledger sum is not an integer: {total!r}")
    return int(total)
