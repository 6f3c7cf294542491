"""The ``videos`` collection: one document per upload, from processing to ready."""

import logging
import secrets
from datetime import timedelta

from pymongo import ASCENDING, DESCENDING

from models import keyset, keywords
from models.common import object_id, utcnow
from models.db import get_db
from models.vocabulary import PUBLIC

log = logging.getLogger(__name__)

PROCESSING, READY, FAILED = "processing", "ready", "failed"


def collection():
    return get_db().videos


CATALOGUE = {"status": READY, "visibility": PUBLIC, "deleted_at": None}
_LISTED = [(field, ASCENDING) for field in CATALOGUE]
_NEWEST = [("created_at", DESCENDING), ("_id", DESCENDING)]
# One index per shape of catalogue query: its equality fields, then the keyset's order.
CATALOGUE_INDEXES = {
    "catalogue_newest": _LISTED + _NEWEST,
    "catalogue_by_creator": [*_LISTED, ("owner_id", ASCENDING), *_NEWEST],
    "catalogue_by_category": [*_LISTED, ("category", ASCENDING), *_NEWEST],
    "catalogue_search": [("keywords", ASCENDING), *_LISTED, *_NEWEST],
}
LEGACY_INDEXES = ("catalogue",)  # (status, visibility, deleted_at, created_at): no _id tiebreak


def create_indexes(database):
    videos = database.videos
    existing = videos.index_information()
    for name in LEGACY_INDEXES:
        if name in existing:
            videos.drop_index(name)
    for name, keys in CATALOGUE_INDEXES.items():
        videos.create_index(keys, name=name)
    videos.create_index([("owner_id", ASCENDING), ("created_at", DESCENDING)], name="owner")
    # A creator's most viewed videos (models.platform_stats.top_videos), read in order.
    videos.create_index(
        [
            ("owner_id", ASCENDING),
            ("deleted_at", ASCENDING),
            ("views", DESCENDING),
            ("_id", ASCENDING),
        ],
        name="owner_top",
    )
    videos.create_index([("status", ASCENDING), ("lease_until", ASCENDING)], name="processing")
    # Finds the videos stored before share keys (add_missing_share_keys), without a scan.
    videos.create_index([("share_key", ASCENDING)], name="share_key")


def new_share_key():
    """What opens an unlisted video: 128 random bits, so ids (which are guessable) never do."""
    return secrets.token_urlsafe(16)


SEARCHABLE = ("title", "tags", "description")


def search_fields(document):
    """The fields that make ``document`` findable by word search (``keywords``)."""
    return {
        "keywords": keywords.keywords(
            document.get("title"), document.get("tags"), document.get("description")
        )
    }


KEYWORDS_MIGRATION = "video_keywords_v1"


def add_missing_keywords(database):
    """Start-up migration: videos stored before word search get their keywords (idempotent).

    A marker document says it is done, so later start-ups cost one read by ``_id``.
    (One update per video: mongomock's bulk_write does not take pymongo 4.20's UpdateOne.)
    """
    if database.migrations.find_one({"_id": KEYWORDS_MIGRATION}) is not None:
        return
    # Equality with null finds the videos without the field through the search index.
    without = database.videos.find({"keywords": None}, dict.fromkeys(SEARCHABLE, 1))
    for count, document in enumerate(without, start=1):
        database.videos.update_one({"_id": document["_id"]}, {"$set": search_fields(document)})
        if count % 10_000 == 0:
            log.info("search keywords added to %d videos", count)
    database.migrations.update_one(
        {"_id": KEYWORDS_MIGRATION}, {"$setOnInsert": {"done_at": utcnow()}}, upsert=True
    )


SHARE_KEYS_MIGRATION = "video_share_keys_v1"


def add_missing_share_keys(database):
    """Start-up migration: videos stored before share keys get one each (idempotent).

    Like add_missing_keywords: a marker makes later start-ups one read, and the update only
    fills a key that is still missing, so two processes starting together agree.
    """
    if database.migrations.find_one({"_id": SHARE_KEYS_MIGRATION}) is not None:
        return
    for document in database.videos.find({"share_key": None}, {"_id": 1}):
        database.videos.update_one(
            {"_id": document["_id"], "share_key": None}, {"$set": {"share_key": new_share_key()}}
        )
    database.migrations.update_one(
        {"_id": SHARE_KEYS_MIGRATION}, {"$setOnInsert": {"done_at": utcnow()}}, upsert=True
    )


def insert(document):
    now = utcnow()
    document.update(
        status=PROCESSING,
        views=0,
        created_at=now,
        updated_at=now,
        deleted_at=None,
        lease_until=None,
        lease_owner=None,
        failure_reason=None,
        share_key=new_share_key(),
        **search_fields(document),
    )
    document["_id"] = collection().insert_one(document).inserted_id
    return document


def find(video_id):
    oid = object_id(video_id)
    return collection().find_one({"_id": oid}) if oid else None


def update(video_id, **fields):
    if any(field in fields for field in SEARCHABLE):
        current = collection().find_one({"_id": video_id}, dict.fromkeys(SEARCHABLE, 1)) or {}
        fields.update(search_fields({**current, **fields}))
    fields["updated_at"] = utcnow()
    collection().update_one({"_id": video_id}, {"$set": fields})


def claim_for_processing(video_id, lease, owner):
    """Take the processing lease of one video for ``owner`` (a token no other claim shares);
    False when someone else holds it."""
    now = utcnow()
    result = collection().update_one(
        {
            "_id": video_id,
            "status": PROCESSING,
            "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}],
        },
        {"$set": {"lease_until": now + lease, "lease_owner": owner}},
    )
    return result.modified_count == 1


def _held_by(video_id, owner):
    return {"_id": video_id, "status": PROCESSING, "lease_owner": owner}


def renew_lease(video_id, lease, owner):
    """Extend ``owner``'s lease; False when the lease is no longer theirs (it ran out and
    another process claimed the video, or the video is no longer processing)."""
    result = collection().update_one(
        _held_by(video_id, owner), {"$set": {"lease_until": utcnow() + lease}}
    )
    return result.matched_count == 1


def release_lease(video_id, owner):
    """Put the video back in the queue at once (a worker stopping mid-job): True if it was
    ``owner``'s. The next claim starts it again, without waiting for the lease to run out."""
    result = collection().update_one(
        _held_by(video_id, owner), {"$set": {"lease_until": None, "lease_owner": None}}
    )
    return result.matched_count == 1


def report_progress(video_id, owner, stage, progress):
    """Record the holder's ``stage`` and ``progress`` (0-1); ``$max``: a job that starts over
    after another died never moves the bar back. False when the lease is not ``owner``'s."""
    result = collection().update_one(
        _held_by(video_id, owner), {"$set": {"stage": stage}, "$max": {"progress": progress}}
    )
    return result.matched_count == 1


def finish_processing(video_id, owner, **fields):
    """Record the outcome (``status`` ready or failed) only if ``owner`` still holds the lease,
    in one conditional update: a holder that lost it can never overwrite the new holder's work.
    False when the lease was not theirs."""
    fields.update(lease_until=None, lease_owner=None, stage=None, progress=None)
    fields["updated_at"] = utcnow()
    result = collection().update_one(_held_by(video_id, owner), {"$set": fields})
    return result.matched_count == 1


def abandoned(limit=20):
    """Videos still processing with no lease (queued), or whose lease ran out (their process
    died).

    Two queries, each served by the ``processing`` index: an ``$or`` of the two is not, on the
    embedded server, and the sweep runs every 30 s in every process.
    """
    found = []
    for lease in (None, {"$lt": utcnow()}):
        if len(found) < limit:
            query = {"status": PROCESSING, "lease_until": lease}
            cursor = collection().find(query, {"_id": 1}).limit(limit - len(found))
            found += [document["_id"] for document in cursor]
    return found


def lease_length(seconds):
    return timedelta(seconds=seconds)


def catalogue_page(per_page, after=None, window=None, words=(), category=None, creator_id=None):
    """A keyset page of the catalogue (models.keyset), newest first; ``words`` all match.

    One condition narrows the query through its index (the longest search word the keyword
    index holds, else the creator, else the category); the others are checked on the
    documents each time window reads.
    """
    equality, checks = dict(CATALOGUE), []
    indexed = next((word for word in words if keywords.is_indexed(word)), None)
    if indexed is not None:
        equality = {"keywords": indexed, **CATALOGUE}
    for word in words:
        if word != indexed:
            checks.append(lambda video, word=word: keywords.matches(word, video["keywords"]))
    for field, value in (("owner_id", creator_id), ("category", category)):
        if value is None:
            continue
        if len(equality) == len(CATALOGUE):
            equality[field] = value
        else:
            checks.append(lambda video, field=field, value=value: video.get(field) == value)
    fields = None if len(words) > (indexed is not None) else {"keywords": 0}
    keep = (lambda video: all(check(video) for check in checks)) if checks else None
    return keyset.newest_first(
        collection(), equality, per_page, after=after, window=window, keep=keep, fields=fields
    )


def replace_share_key(video_id):
    update(video_id, share_key=new_share_key())


def soft_delete(video_id):
    update(video_id, deleted_at=utcnow())


def restore(video_id):
    update(video_id, deleted_at=None)


def remove(video_id):
    collection().delete_one({"_id": video_id})


def add_view(video_id):
    """One more view; ``updated_at`` is for edits and is left alone."""
    collection().update_one({"_id": video_id}, {"$inc": {"views": 1}})


def ids_of_owner(owner_id, limit):
    """Up to ``limit`` ids of the owner's videos, in any state, newest first (``owner``)."""
    found = collection().find({"owner_id": owner_id}, {"_id": 1}).sort("created_at", -1)
    return [document["_id"] for document in found.limit(limit)]
