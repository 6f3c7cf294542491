"""Small helpers shared by the document modules."""

from datetime import UTC, datetime

from bson import ObjectId
from bson.errors import InvalidId


def utcnow():
    """Now, in UTC, to the millisecond (what BSON dates keep)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def as_utc(moment):
    """A datetime from MongoDB as an aware UTC datetime (mongomock may drop tzinfo)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


OBJECT_ID_HEX = "[0-9a-fA-F]{24}"  # an ObjectId as text, for routes and documented patterns


def object_id(value):
    """``value`` as an ObjectId, or None when it is not a valid hex id."""
    if isinstance(value, ObjectId):
        return value
    if not isinstance(value, str):
        return None
    try:
        return ObjectId(value)
    except InvalidId:
        return None
