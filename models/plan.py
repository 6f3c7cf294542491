"""The ``subscription_plans`` collection: a creator's monthly price, one document each.

{_id: creator_id, price (minor units), currency, updated_at}
"""

from models.db import get_db


def collection():
    return get_db().subscription_plans


def find(creator_id):
    return collection().find_one({"_id": creator_id})
