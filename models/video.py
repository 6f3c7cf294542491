"""The ``videos`` collection: one document per upload, from processing to ready."""

import re
from datetime import timedelta

from pymongo import ASCENDING, DESCENDING

from models.common import newest_first_page, object_id, utcnow
from models.db import get_db

PROCESSING, READY, FAILED = "processing", "ready", "failed"
VISIBILITIES = ("public", "unlisted", "private")


def collection():
    return get_db().videos


def create_indexes(database):
    videos = database.videos
    videos.create_index(
        [
            ("status", ASCENDING),
            ("visibility", ASCENDING),
            ("deleted_at", ASCENDING),
            ("created_at", DESCENDING),
        ],
        name="catalogue",
    )
    videos.create_index([("owner_id", ASCENDING), ("created_at", DESCENDING)], name="owner")
    videos.create_index([("status", ASCENDING), ("lease_until", ASCENDING)], name="processing")


def insert(document):
    now = utcnow()
    document.update(
        status=PROCESSING,
        views=0,
        created_at=now,
        updated_at=now,
        deleted_at=None,
        lease_until=None,
        failure_reason=None,
    )
    document["_id"] = collection().insert_one(document).inserted_id
    return document


def find(video_id):
    oid = object_id(video_id)
    return collection().find_one({"_id": oid}) if oid else None


def update(video_id, **fields):
    fields["updated_at"] = utcnow()
    collection().update_one({"_id": video_id}, {"$set": fields})


def claim_for_processing(video_id, lease):
    """Take the processing lease of one video; False when someone else holds it."""
    now = utcnow()
    result = collection().update_one(
        {
            "_id": video_id,
            "status": PROCESSING,
            "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}],
        },
        {"$set": {"lease_until": now + lease}},
    )
    return result.modified_count == 1


def renew_lease(video_id, lease):
    collection().update_one(
        {"_id": video_id, "status": PROCESSING}, {"$set": {"lease_until": utcnow() + lease}}
    )


def abandoned(limit=20):
    """Videos still processing whose lease ran out: their process died."""
    query = {
        "status": PROCESSING,
        "$or": [{"lease_until": None}, {"lease_until": {"$lt": utcnow()}}],
    }
    return [doc["_id"] for doc in collection().find(query, {"_id": 1}).limit(limit)]


def lease_length(seconds):
    return timedelta(seconds=seconds)


CATALOGUE = {"status": READY, "visibility": "public", "deleted_at": None}


def catalogue_query(q=None, category=None, creator_id=None):
    """Ready, public, not deleted; ``q`` matches the title (escaped: no operators, no regex)."""
    query = dict(CATALOGUE)
    if q:
        query["title"] = {"$regex": re.escape(q), "$options": "i"}
    if category:
        query["category"] = category
    if creator_id is not None:
        query["owner_id"] = creator_id
    return query


def page_of_videos(query, page_number, per_page):
    return newest_first_page(collection(), query, page_number, per_page)


def soft_delete(video_id):
    update(video_id, deleted_at=utcnow())


def restore(video_id):
    update(video_id, deleted_at=None)


def remove(video_id):
    collection().delete_one({"_id": video_id})


def add_view(video_id):
    """One more view; ``updated_at`` is for edits and is left alone."""
    collection().update_one({"_id": video_id}, {"$inc": {"views": 1}})
