"""The ``mail_outbox`` collection: mails waiting for the SMTP server, one document each.

A document holds the rendered message (its bytes carry the mail's link token), the
envelope, how many attempts were made and when the next one is due. A sender claims a
due mail by moving ``next_attempt_at`` past its lease in one conditional update; a
sender that dies leaves the mail due again once the lease runs out. A mail sent, or
given up on, is deleted: nothing keeps its token afterwards.
"""

import secrets

from pymongo import ASCENDING

from models.common import as_utc
from models.db import get_db


def collection():
    return get_db().mail_outbox


def create_indexes(database):
    database.mail_outbox.create_index([("next_attempt_at", ASCENDING)], name="due")
    database.mail_outbox.create_index([("recipient", ASCENDING)], name="recipient")


def insert(message, sender, recipient, template, now):
    document = {
        "message": message,
        "sender": sender,
        "recipient": recipient,
        "template": template,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
        "lease_owner": None,
        "last_error": None,
    }
    return collection().insert_one(document).inserted_id


def due(now, limit=20):
    """(id, next_attempt_at) of the mails due at ``now``, oldest first (the ``due`` index)."""
    query = {"next_attempt_at": {"$lte": now}}
    cursor = collection().find(query, {"next_attempt_at": 1}).sort("next_attempt_at", ASCENDING)
    return [(document["_id"], document["next_attempt_at"]) for document in cursor.limit(limit)]


def claim(mail_id, seen_at, lease_until):
    """The mail, now leased to a new owner until ``lease_until``; None when another
    sender claimed it first (its ``next_attempt_at`` is no longer the one seen)."""
    owner = secrets.token_hex(16)
    result = collection().update_one(
        {"_id": mail_id, "next_attempt_at": seen_at},
        {"$set": {"next_attempt_at": lease_until, "lease_owner": owner}},
    )
    if result.matched_count != 1:
        return None
    document = collection().find_one({"_id": mail_id, "lease_owner": owner})
    if document is not None:
        document["created_at"] = as_utc(document["created_at"])
    return document


def remove(mail_id, owner):
    """Forget a mail sent or given up on, if ``owner`` still holds it."""
    return collection().delete_one({"_id": mail_id, "lease_owner": owner}).deleted_count == 1


def retry_at(mail_id, owner, when, error):
    """One more failed attempt; the mail is due again at ``when``."""
    result = collection().update_one(
        {"_id": mail_id, "lease_owner": owner},
        {
            "$set": {"next_attempt_at": when, "lease_owner": None, "last_error": error[:500]},
            "$inc": {"attempts": 1},
        },
    )
    return result.matched_count == 1


def remove_to(recipients):
    """Drop the queued mail to these addresses (an account deleted: its links are dead)."""
    for recipient in recipients:
        collection().delete_many({"recipient": recipient})
