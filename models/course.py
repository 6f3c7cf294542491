"""The ``courses`` collection: a creator's ordered list of its own videos, free or priced.

A course document::

    {_id, owner_id, title, description, category, price (minor units, None: free),
     video_ids: [ObjectId, ...] (the order students watch them in), keywords,
     created_at, updated_at, deleted_at (None while live)}

Buying a priced course opens every video in it (services/access.py: may_watch), so the
one query the access rule needs, ``priced_containing``, is index-backed (``video_ids``).
"""

from pymongo import ASCENDING

from models.db import get_db


def collection():
    return get_db().courses


def create_indexes(database):
    database.courses.create_index([("video_ids", ASCENDING)], name="video_ids")


def priced_containing(video_id):
    """The ids of the live, priced courses that list ``video_id``: a purchase of any opens it."""
    found = collection().find(
        {"video_ids": video_id, "deleted_at": None, "price": {"$gt": 0}}, {"_id": 1}
    )
    return [course["_id"] for course in found]
