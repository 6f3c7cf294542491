"""The ``subscriptions`` collection: a viewer's monthly subscription to one creator.

A subscription document::

    {_id, user_id, creator_id, amount, currency,
     status: "pending"|"active"|"ended"|"failed", cancel_at_period_end: bool,
     current_period_end, payment_id, created_at, ended_at,
     holding: "<user id>:<creator id>",
     payment_method, provider, request_key, period (the paid period's number, 0 first),
     periods: [{number, payment_id, end}] (which payment pays which period),
     settled_at, ended_reason, failure_reason, refunded_at}

``payment_id`` is the latest period's payment (what a refund gives back).

It opens the creator's ``subscribers`` videos while ``active`` and before
``current_period_end``; a cancelled one stays active until then (access until the end of
the paid period), a renewal moves the end on, a failed renewal ends it. ``holding`` is
present while pending or active, under a unique sparse index: one live subscription per
user and creator.
"""

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from models import keyset
from models.common import as_utc, utcnow
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
    # A retried POST /subscriptions finds its subscription (made_with); the renewal job finds
    # first payments left pending (stale_pending).
    subscriptions.create_index(
        [("user_id", ASCENDING), ("request_key", ASCENDING)], name="by_request_key"
    )
    subscriptions.create_index([("status", ASCENDING), ("created_at", ASCENDING)], name="by_age")


def holding_key(user_id, creator_id):
    return f"{user_id}:{creator_id}"


def is_active(user_id, creator_id, now=None):
    """Whether ``user_id`` subscribes to ``creator_id`` now: one lookup by ``holding``, the
    status and period checked here (the cheaper query: see models.purchase.holds_any)."""
    found = collection().find_one(
        {"holding": holding_key(user_id, creator_id)},
        {"status": 1, "current_period_end": 1, "_id": 0},
    )
    if found is None or found.get("status") != ACTIVE:
        return False
    return as_utc(found["current_period_end"]) > (now or utcnow())


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


# Writes and reads of the subscription routes and the renewal job (services.subscriptions,
# services.renewals). Every change of status is a conditional update: of two writers (the
# request and a webhook, two renewal sweeps), one moves it.


def insert(document):
    """Insert a new (pending) subscription; None when the user already holds one to the
    creator (the unique ``holding`` index decides, whichever worker inserted first)."""
    try:
        collection().insert_one(document)
    except DuplicateKeyError:
        return None
    return document


def find(subscription_id):
    return collection().find_one({"_id": subscription_id})


def holding(user_id, creator_id):
    """The live (pending or active) subscription of ``user_id`` to ``creator_id``, if any."""
    return collection().find_one({"holding": holding_key(user_id, creator_id)})


def made_with(user_id, request_key):
    """The live subscription this user made with this ``Idempotency-Key``, if any."""
    query = {"user_id": user_id, "request_key": request_key, "status": {"$in": [PENDING, ACTIVE]}}
    return collection().find_one(query)


def discard(subscription_id):
    """Drop a pending subscription that never reached the provider (an unknown method)."""
    collection().delete_one({"_id": subscription_id, "status": PENDING, "payment_id": None})


def set_first_payment(subscription_id, payment_id):
    """The first period's payment, shown while pending (to authenticate it)."""
    collection().update_one(
        {"_id": subscription_id, "status": PENDING}, {"$set": {"payment_id": payment_id}}
    )


def add_period(subscription_id, number, payment_id, period_end):
    """Record that ``payment_id`` pays period ``number`` (ending ``period_end``, None for the
    first: it ends a period after it settles). Recording it again changes nothing."""
    entry = {"number": number, "payment_id": payment_id, "end": period_end}
    collection().update_one(
        {"_id": subscription_id, "periods.number": {"$ne": number}}, {"$push": {"periods": entry}}
    )


def period_paid_by(subscription, payment_id):
    """The period entry ``payment_id`` pays in ``subscription``, or None."""
    for entry in subscription.get("periods", []):
        if entry["payment_id"] == payment_id:
            return entry
    return None


def activate(subscription_id, payment_id, period_end, now):
    """pending -> active for its first period; True if this call moved it."""
    result = collection().update_one(
        {"_id": subscription_id, "status": PENDING},
        {
            "$set": {
                "status": ACTIVE,
                "period": 0,
                "payment_id": payment_id,
                "current_period_end": period_end,
                "settled_at": now,
            }
        },
    )
    return result.modified_count == 1


def advance(subscription_id, number, payment_id, period_end):
    """Move an active subscription from period ``number - 1`` to ``number``: one mover wins.
    ``cancel_at_period_end`` is kept (a cancel during a renewal ends the new period)."""
    result = collection().update_one(
        {"_id": subscription_id, "status": ACTIVE, "period": number - 1},
        {"$set": {"period": number, "payment_id": payment_id, "current_period_end": period_end}},
    )
    return result.modified_count == 1


def end(subscription_id, reason, now, statuses=(ACTIVE,), status=ENDED, **also):
    """``statuses`` -> ``status`` (ended or failed), ``holding`` dropped: access ends now.
    ``also``: more fields to set (failure_reason, refunded_at)."""
    fields = {"status": status, "ended_at": now, "ended_reason": reason, **also}
    result = collection().update_one(
        {"_id": subscription_id, "status": {"$in": list(statuses)}},
        {"$set": fields, "$unset": {"holding": ""}},
    )
    return result.modified_count == 1


def cancel_at_period_end(subscription_id):
    """active -> active with ``cancel_at_period_end``; True if this call set it."""
    result = collection().update_one(
        {"_id": subscription_id, "status": ACTIVE, "cancel_at_period_end": False},
        {"$set": {"cancel_at_period_end": True}},
    )
    return result.modified_count == 1


def due(now, limit=50):
    """Active subscriptions whose period has ended, earliest first (the ``due`` index)."""
    query = {"status": ACTIVE, "current_period_end": {"$lte": now}}
    return list(collection().find(query).sort("current_period_end", ASCENDING).limit(limit))


def stale_pending(before, limit=50):
    """Pending subscriptions created before ``before`` (for reconciliation)."""
    query = {"status": PENDING, "created_at": {"$lt": before}}
    return list(collection().find(query).sort("created_at", ASCENDING).limit(limit))


def page_of_user(user_id, per_page, after=None, window=None):
    """A keyset page (models.keyset) of the user's subscriptions, newest first (``by_user``)."""
    return keyset.newest_first(
        collection(), {"user_id": user_id}, per_page, after=after, window=window
    )
