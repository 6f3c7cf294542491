"""The ``webhook_events`` collection: the provider events already processed, by event id.

A provider retries an event until it gets a 2xx, and may send one twice: an event whose id
is here has been applied, and a second delivery changes nothing. The ``_id`` is the event id
(unique), so two workers receiving it at once record it once. A TTL index forgets events
after ``KEEP_DAYS`` (providers stop retrying within three days).
"""

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from models.db import get_db

KEEP_DAYS = 30


def collection():
    return get_db().webhook_events


def create_indexes(database):
    database.webhook_events.create_index(
        [("processed_at", ASCENDING)], name="expiry", expireAfterSeconds=KEEP_DAYS * 86400
    )


def seen(event_id):
    return collection().find_one({"_id": event_id}, {"_id": 1}) is not None


def record(event_id, event_type, payment_id, now):
    try:
        collection().insert_one(
            {"_id": event_id, "type": event_type, "payment_id": payment_id, "processed_at": now}
        )
    except DuplicateKeyError:
        return False
    return True
