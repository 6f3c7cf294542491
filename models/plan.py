"""The ``subscription_plans`` collection: a creator's monthly price, one document each.

{_id: creator_id, price (minor units), currency, updated_at}

The creator's id is the ``_id``, so setting a plan is an upsert: two racing PUTs leave
one document (the last write's price), never two.
"""

from models.common import utcnow
from models.db import get_db


def collection():
    return get_db().subscription_plans


def find(creator_id):
    return collection().find_one({"_id": creator_id})


def upsert(creator_id, price, currency):
    """Set ``creator_id``'s plan to ``price`` in ``currency``; the document as written.

    ``update_one`` rather than ``find_one_and_update``, which the embedded server runs
    slowly (docs/operations.md#the-embedded-server).
    """
    fields = {"price": price, "currency": currency, "updated_at": utcnow()}
    collection().update_one({"_id": creator_id}, {"$set": fields}, upsert=True)
    return {"_id": creator_id, **fields}
