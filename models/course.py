"""The ``courses`` collection: a creator's ordered list of its own videos, free or priced.

A course document::

    {_id, owner_id, owner_name, title, description, category, price (minor units, None:
     free), currency, video_ids: [ObjectId, ...] (the order students watch them in),
     keywords, created_at, updated_at, deleted_at (None while live)}

Buying a priced course opens every video in it (services/access.py: may_watch), so the
one query the access rule needs, ``priced_containing``, is index-backed (``video_ids``).
The list (``GET /courses``) pages like the video catalogue (models.keyset), one index per
shape of query; word search uses ``keywords`` (models.keywords), never ``$regex``.
"""

from pymongo import ASCENDING, DESCENDING

from models import keyset, keywords
from models import video as videos
from models.common import object_id, utcnow
from models.db import get_db

MAX_VIDEOS = 200


def collection():
    return get_db().courses


LIVE = {"deleted_at": None}
_NEWEST = [("created_at", DESCENDING), ("_id", DESCENDING)]
# One index per shape of list query: its equality fields, then the keyset's order.
LIST_INDEXES = {
    "courses_newest": [("deleted_at", ASCENDING), *_NEWEST],
    "courses_by_creator": [("deleted_at", ASCENDING), ("owner_id", ASCENDING), *_NEWEST],
    "courses_by_category": [("deleted_at", ASCENDING), ("category", ASCENDING), *_NEWEST],
    "courses_search": [("keywords", ASCENDING), ("deleted_at", ASCENDING), *_NEWEST],
}


def create_indexes(database):
    database.courses.create_index([("video_ids", ASCENDING)], name="video_ids")
    # An account deletion removes the owner's courses, deleted or not.
    database.courses.create_index([("owner_id", ASCENDING)], name="owner")
    # priced_containing's query whole (the access rule runs it on every paid media request).
    database.courses.create_index(
        [("video_ids", ASCENDING), ("deleted_at", ASCENDING), ("price", ASCENDING)],
        name="priced_containing",
    )
    for name, keys in LIST_INDEXES.items():
        database.courses.create_index(keys, name=name)


def priced_containing(video_id):
    """The ids of the live, priced courses that list ``video_id``: a purchase of any opens it."""
    found = collection().find(
        {"video_ids": video_id, "deleted_at": None, "price": {"$gt": 0}}, {"_id": 1}
    )
    return [course["_id"] for course in found]


def search_fields(document):
    """What makes a course findable by word search: its title's and description's words."""
    return {"keywords": keywords.keywords(document.get("title"), (), document.get("description"))}


def insert(document):
    now = utcnow()
    document.update(
        video_ids=[], created_at=now, updated_at=now, deleted_at=None, **search_fields(document)
    )
    document["_id"] = collection().insert_one(document).inserted_id
    return document


def find(course_id):
    oid = object_id(course_id)
    return collection().find_one({"_id": oid}) if oid else None


def update(course_id, **fields):
    if "title" in fields or "description" in fields:
        current = collection().find_one({"_id": course_id}, {"title": 1, "description": 1})
        fields.update(search_fields({**(current or {}), **fields}))
    fields["updated_at"] = utcnow()
    collection().update_one({"_id": course_id}, {"$set": fields})


def soft_delete(course_id):
    update(course_id, deleted_at=utcnow())


def restore(course_id):
    update(course_id, deleted_at=None)


def page(per_page, after=None, window=None, words=(), category=None, owner_id=None):
    """A keyset page of the live courses, newest first; ``words`` all match.

    As models.video.catalogue_page: one condition narrows the query through its index (the
    longest search word the keyword index holds, else the creator, else the category); the
    others are checked on the documents each window reads.
    """
    equality, checks = dict(LIVE), []
    indexed = next((word for word in words if keywords.is_indexed(word)), None)
    if indexed is not None:
        equality["keywords"] = indexed
    for word in words:
        if word != indexed:
            checks.append(lambda course, word=word: keywords.matches(word, course["keywords"]))
    for field, value in (("owner_id", owner_id), ("category", category)):
        if value is None:
            continue
        if len(equality) == len(LIVE):
            equality[field] = value
        else:
            checks.append(lambda course, field=field, value=value: course.get(field) == value)
    keep = (lambda course: all(check(course) for check in checks)) if checks else None
    return keyset.newest_first(
        collection(), equality, per_page, after=after, window=window, keep=keep
    )


def listed_videos(video_ids):
    """The video documents of ``video_ids`` that exist, by id (one query on ``_id``)."""
    if not video_ids:
        return {}
    found = videos.collection().find({"_id": {"$in": list(video_ids)}})
    return {video["_id"]: video for video in found}
