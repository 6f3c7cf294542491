"""The ``audit_log`` collection: one document per mutating API call (services.audit).

``{_id, at, actor_id, actor_role, action, method, target: {type, id} | None, status,
request_id, ip_hash}``. Never a body, a password or a token. ``at`` has a TTL index whose
``expireAfterSeconds`` follows ``AUDIT_RETENTION_DAYS`` (rebuilt at start-up when the setting
changed). Each filter the admin query takes has an index that ends with ``(at, _id)``, so a page
is an index walk, newest first.
"""

from datetime import timedelta

from pymongo import DESCENDING
from pymongo.errors import BulkWriteError

from models.common import as_utc
from models.db import get_db
from models.keyset import Page, Position

TTL_INDEX = "at_ttl"
DUPLICATE_KEY = 11000
NEWEST_FIRST = [("at", DESCENDING), ("_id", DESCENDING)]
# The equality filters an index serves, each followed by the newest-first keys.
FILTER_INDEXES = {
    "newest": [],
    "actor_newest": ["actor_id"],
    "action_newest": ["action"],
    "target_newest": ["target.type", "target.id"],
}
NO_WINDOW = timedelta(days=1)  # pages here do not read in windows; the cursor wants one


def collection():
    return get_db().audit_log


def create_indexes(database, retention_days):
    seconds = int(timedelta(days=retention_days).total_seconds())
    existing = database.audit_log.index_information().get(TTL_INDEX)
    if existing is not None and existing.get("expireAfterSeconds") != seconds:
        database.audit_log.drop_index(TTL_INDEX)  # the retention changed: the new one applies
    database.audit_log.create_index("at", expireAfterSeconds=seconds, name=TTL_INDEX)
    for name, fields in FILTER_INDEXES.items():
        keys = [(field, DESCENDING) for field in fields] + NEWEST_FIRST
        database.audit_log.create_index(keys, name=name)


def insert_many(entries):
    """Write ``entries`` (each with its own ``_id``); one already written counts as written,
    so a batch retried after a partial failure is not doubled."""
    try:
        collection().insert_many(entries, ordered=False)
    except BulkWriteError as error:
        if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
            raise
        if error.details.get("writeConcernErrors"):
            raise


def page(equality, per_page, *, after=None, since=None, until=None, keep=None):
    """Up to ``per_page`` entries matching ``equality`` (and ``keep``, checked here), newest
    first, strictly older than ``after`` (a Position over ``(at, _id)``), with ``since <= at <
    until``."""
    found, position, growth = [], after, 1
    wanted = per_page + 1
    while len(found) < wanted:
        limit = ((wanted - len(found)) * (4 if keep else 1) + 20) * growth
        query = _query(equality, position, since, until)
        raw = list(collection().find(query).sort(NEWEST_FIRST).limit(limit))
        later = [doc for doc in raw if position is None or _older(doc, position)]
        found.extend(doc for doc in later if keep is None or keep(doc))
        if len(raw) < limit:
            break
        # The next read starts at the last one's millisecond; when that is where this one
        # started (all of it one millisecond), read more at once, or it would read it again.
        stuck = position is not None and as_utc(raw[-1]["at"]) == position.created_at
        growth = growth * 2 if stuck else 1
        position = _position(raw[-1])
    items = found[:per_page]
    has_more = len(found) > per_page
    return Page(items, has_more, _position(items[-1]) if has_more else None, NO_WINDOW)


def _query(equality, position, since, until):
    at = {}
    if since is not None:
        # "at >= since", said as "at > since less a millisecond": the same on BSON dates (whole
        # milliseconds), and right on SecantusDB too (development and tests), which reads a
        # $gte bound on a descending compound index, (actor_id, at, _id) and the like, as $gt.
        at["$gt"] = _whole_milliseconds(since) - timedelta(milliseconds=1)
    if until is not None:
        at["$lt"] = until
    if position is not None:
        at["$lte"] = position.created_at
    return {**equality, "at": at} if at else dict(equality)


def _whole_milliseconds(moment):
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _position(document):
    return Position(as_utc(document["at"]), document["_id"])


def _older(document, position):
    return (as_utc(document["at"]), document["_id"]) < (position.created_at, position.id)
