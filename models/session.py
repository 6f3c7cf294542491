"""The ``sessions`` collection: one document per login.

A session is what logout revokes. Access, refresh and playback tokens all
carry its id (``sid``), and each use checks that it is still active, so a
revocation takes effect at once. The current refresh token's ``jti`` lives
here: rotation swaps it atomically, and a refresh token that is not the
current one is a replay, except the one just before it for a few seconds
(a client's concurrent retry, given the same pair again). ``expires_at``
has a TTL index, so expired and revoked sessions remove themselves.

Each session also names the device it was opened on (services.user_agents) and
when it was last used, for the user's list of signed-in devices, and the keyed hash of the
address it was opened from (``ip_hash``, services.ip_hash: never the address itself).
"""

from datetime import timedelta

from pymongo import ASCENDING, DESCENDING

from models.common import as_utc, object_id, utcnow
from models.db import get_db

# How long a revoked session is kept (for audit) before the TTL index removes it.
REVOKED_RETENTION = timedelta(days=1)
RAW_ADDRESS_MIGRATION = "session_raw_ip_dropped_v1"


def collection():
    return get_db().sessions


def create_indexes(database):
    database.sessions.create_index(
        [("expires_at", ASCENDING)], expireAfterSeconds=0, name="expires_at_ttl"
    )
    if "user_id" in database.sessions.index_information():
        database.sessions.drop_index("user_id")  # a prefix of the one below
    database.sessions.create_index(
        [
            ("user_id", ASCENDING),
            ("revoked_at", ASCENDING),
            ("created_at", DESCENDING),
            ("_id", DESCENDING),
        ],
        name="user_live_newest",
    )


def create(
    session_id, user_id, refresh_jti, expires_at, user_agent=None, ip_hash=None, device=None
):
    now = utcnow()
    document = {
        "_id": session_id,
        "user_id": user_id,
        "refresh_jti": refresh_jti,
        "created_at": now,
        "last_used_at": now,
        "device": device,
        "refreshed_at": None,
        "expires_at": expires_at,
        "revoked_at": None,
        "user_agent": (user_agent or "")[:300],
        "ip_hash": ip_hash,
    }
    collection().insert_one(document)
    return document


def drop_raw_addresses(database):
    """Start-up migration: sessions opened before addresses were hashed lose their raw ``ip``
    (idempotent; a marker makes later start-ups one read by ``_id``). Dropped, not hashed:
    nothing reads it, and a session lives 30 days at most."""
    if database.migrations.find_one({"_id": RAW_ADDRESS_MIGRATION}) is not None:
        return
    database.sessions.update_many({}, {"$unset": {"ip": ""}})
    database.migrations.update_one(
        {"_id": RAW_ADDRESS_MIGRATION}, {"$setOnInsert": {"done_at": utcnow()}}, upsert=True
    )


def find_active(session_id):
    """The session if it exists, is not revoked and has not expired.

    Looked up by ``_id`` alone and checked here: every authenticated request
    makes this query, and the embedded server answered the three-condition
    filter in twice the time (2.0 ms against 0.9 ms, measured).
    """
    oid = object_id(session_id)
    session = collection().find_one({"_id": oid}) if oid else None
    if session is None or session["revoked_at"] is not None:
        return None
    return session if as_utc(session["expires_at"]) > utcnow() else None


def rotate_refresh(session_id, presented_jti, rotated_to):
    """Swap the refresh token if ``presented_jti`` is the current one; True on success.

    ``rotated_to`` is the new pair's claims record (services.tokens.Pair.claims_record):
    kept with the jti it replaced and the moment, so a concurrent retry of that jti can
    be given the same pair (``rotation_from``). One ``update_one`` with the old jti in
    its filter: of two requests racing with the same token, exactly one rotates.
    """
    oid = object_id(session_id)
    if oid is None:
        return False
    now = utcnow()
    result = collection().update_one(
        {"_id": oid, "refresh_jti": presented_jti, "revoked_at": None, "expires_at": {"$gt": now}},
        {
            "$set": {
                "refresh_jti": rotated_to["refresh_jti"],
                "previous_refresh_jti": presented_jti,
                "rotated_to": rotated_to,
                "refreshed_at": now,
                "last_used_at": now,
                "expires_at": rotated_to["refresh_expires_at"],
            }
        },
    )
    return result.modified_count == 1


def rotation_from(session_id, previous_jti, since):
    """The claims record ``previous_jti`` was rotated to, if it is the jti just before the
    current one, it was rotated after ``since`` and the session is still active; else None.

    A read after a failed ``rotate_refresh`` is enough: a session only moves forward, and
    if it moved on again meanwhile ``previous_jti`` is two rotations old, a replay.
    """
    session = find_active(session_id)
    if session is None or session.get("previous_refresh_jti") != previous_jti:
        return None
    return session["rotated_to"] if as_utc(session["refreshed_at"]) > since else None


def revoke(session_id, reason):
    oid = object_id(session_id)
    if oid is None:
        return False
    now = utcnow()
    result = collection().update_one(
        {"_id": oid, "revoked_at": None}, {"$set": _revoked(now, reason)}
    )
    return result.modified_count == 1


def live_of_user(user_id):
    """The user's sessions that are not revoked, newest first; the expired ones are left out
    here, as ``find_active`` does (the TTL index removes them soon)."""
    found = (
        collection()
        .find({"user_id": user_id, "revoked_at": None})
        .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
    )
    now = utcnow()
    return [session for session in found if as_utc(session["expires_at"]) > now]


def revoke_of_user(user_id, session_id, reason):
    """``revoke``, only if the session is the user's own; True when it was live and ended."""
    oid = object_id(session_id)
    if oid is None:
        return False
    now = utcnow()
    result = collection().update_one(
        {"_id": oid, "user_id": user_id, "revoked_at": None},
        {"$set": _revoked(now, reason)},
    )
    return result.modified_count == 1


def revoke_others(user_id, keep_session_id, reason):
    """End every live session of the user except ``keep_session_id``; how many ended.

    The live ones are listed first (``live_of_user``'s index), then ended by ``_id``: two
    queries an index serves, where a ``$ne`` on ``_id`` would not be.
    """
    keep = object_id(keep_session_id)
    others = [s["_id"] for s in live_of_user(user_id) if s["_id"] != keep]
    if not others:
        return 0
    result = collection().update_many(
        {"_id": {"$in": others}, "revoked_at": None}, {"$set": _revoked(utcnow(), reason)}
    )
    return result.modified_count


def touch(session_id, now, unless_since):
    """Set ``last_used_at`` to ``now`` unless it is already ``unless_since`` or later (or
    unset: a session from before the field, which ``$lt`` never matches, matches null).

    The condition is in the filter, so processes racing on one session write once.
    """
    condition = {"$lt": unless_since} if unless_since is not None else None
    collection().update_one(
        {"_id": object_id(session_id), "last_used_at": condition},
        {"$set": {"last_used_at": now}},
    )


def _revoked(now, reason):
    return {"revoked_at": now, "revoked_reason": reason, "expires_at": now + REVOKED_RETENTION}
