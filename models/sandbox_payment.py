"""The sandbox provider's own state, in MongoDB so that every worker sees it.

``sandbox_payments``: one document per payment the sandbox took::

    {_id: "sbpay_<hex>", idempotency_key (unique), amount, currency, payment_method,
     status: "succeeded"|"pending"|"failed"|"refunded", failure_reason, metadata,
     webhook_url, refund_key, created_at, updated_at}

``sandbox_webhooks``: the events it still has to deliver (the outbox)::

    {_id: "evt_<payment id>_<type>", payment_id, type, url, payload (the JSON text, fixed
     for every attempt), attempts, next_attempt_at, lease_owner, last_error, created_at}

The unique idempotency key makes a charge retried with the same key return the first
payment; the deterministic event id makes every settlement one event, whatever retries.
A deliverer claims a due event by moving ``next_attempt_at`` past its lease in one
conditional update (as models.mail_outbox does); a delivered event is deleted.
"""

import secrets

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from models.db import get_db


def payments():
    return get_db().sandbox_payments


def outbox():
    return get_db().sandbox_webhooks


def create_indexes(database):
    database.sandbox_payments.create_index(
        [("idempotency_key", ASCENDING)], name="idempotency_key", unique=True
    )
    database.sandbox_webhooks.create_index([("next_attempt_at", ASCENDING)], name="due")


def new_payment_id():
    return f"sbpay_{secrets.token_hex(12)}"


def insert(document):
    """True if ``document`` is new; False when its idempotency key was used already."""
    try:
        payments().insert_one(document)
    except DuplicateKeyError:
        return False
    return True


def find(payment_id):
    return payments().find_one({"_id": payment_id})


def find_by_key(idempotency_key):
    return payments().find_one({"idempotency_key": idempotency_key})


def move(payment_id, from_status, to_status, now, **fields):
    """Change the payment's status if it is ``from_status``; True if this call did."""
    result = payments().update_one(
        {"_id": payment_id, "status": from_status},
        {"$set": {"status": to_status, "updated_at": now, **fields}},
    )
    return result.modified_count == 1


def queue_event(event_id, payment_id, event_type, url, payload, now):
    """Queue one event; queuing it again (the same settlement) changes nothing."""
    try:
        outbox().insert_one(
            {
                "_id": event_id,
                "payment_id": payment_id,
                "type": event_type,
                "url": url,
                "payload": payload,
                "attempts": 0,
                "next_attempt_at": now,
                "lease_owner": None,
                "last_error": None,
                "created_at": now,
            }
        )
    except DuplicateKeyError:
        return False
    return True


def due_events(now, limit):
    query = {"next_attempt_at": {"$lte": now}}
    found = outbox().find(query, {"next_attempt_at": 1}).sort("next_attempt_at", ASCENDING)
    return [(event["_id"], event["next_attempt_at"]) for event in found.limit(limit)]


def claim_event(event_id, seen_at, lease_until):
    owner = secrets.token_hex(16)
    result = outbox().update_one(
        {"_id": event_id, "next_attempt_at": seen_at},
        {"$set": {"next_attempt_at": lease_until, "lease_owner": owner}},
    )
    if result.modified_count != 1:
        return None
    return outbox().find_one({"_id": event_id, "lease_owner": owner})


def delivered(event_id, owner):
    outbox().delete_one({"_id": event_id, "lease_owner": owner})


def retry_event(event_id, owner, when, error):
    outbox().update_one(
        {"_id": event_id, "lease_owner": owner},
        {
            "$set": {"next_attempt_at": when, "lease_owner": None, "last_error": error[:500]},
            "$inc": {"attempts": 1},
        },
    )
