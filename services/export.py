"""``GET /me/export``: everything stored about the caller, as one JSON document.

The document is streamed: each section is read a page at a time (models.export, every
page served by an index) and written out as it is read, so an account with thousands of
videos or views costs memory for one page, not for all of them. Nothing is capped.

Left out: the password hash, token ids (refresh token ids, and the playback tokens' ids
that key ``playback_views``), GridFS ids and processing leases.
"""

import json
from datetime import datetime

from bson import ObjectId

from models import export
from models.common import as_utc, utcnow

PROFILE_FIELDS = ("name", "email", "role", "created_at", "updated_at")
SESSION_FIELDS = (
    "device",
    "user_agent",
    "ip_hash",
    "created_at",
    "last_used_at",
    "refreshed_at",
    "expires_at",
    "revoked_at",
    "revoked_reason",
)


def _default(value):
    if isinstance(value, datetime):
        return as_utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, ObjectId):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not exported")


def _json(value):
    return json.dumps(value, default=_default, separators=(",", ":"))


def _session(document):
    return {field: document.get(field) for field in SESSION_FIELDS}


def _view(document):
    document.pop("_id")  # a playback token's id, or "<user>:<video>"
    return document


def _reaction(document):
    document.pop("_id")  # "<user>:<video>"
    return document


def _record(document):
    """A video, purchase or subscription: its ``_id`` as ``id``, as the API shows it."""
    document["id"] = document.pop("_id")
    return document


SECTIONS = (
    ("sessions", _session),
    ("videos", _record),
    ("playback_views", _view),
    ("recent_views", _view),
    ("progress", _view),
    ("purchases", _record),
    ("subscriptions", _record),
    ("reactions", _reaction),
)


def document(user):
    """The export of ``user`` (its document), as pieces of JSON text."""
    profile = {"id": user["_id"], **{field: user.get(field) for field in PROFILE_FIELDS}}
    yield '{"exported_at":' + _json(utcnow()) + ',"profile":' + _json(profile)
    for kind, shape in SECTIONS:
        yield f',"{kind}":['
        for index, record in enumerate(export.records(kind, user["_id"])):
            yield ("," if index else "") + _json(shape(record))
        yield "]"
    yield "}"
