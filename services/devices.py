"""The user's signed-in devices: one per live session, listed, ended one by one or all but
the caller's own, and when each was last used."""

from datetime import timedelta

from models import session as sessions
from models.common import as_utc, utcnow
from services import user_agents
from services.errors import NotFound

# "Last used" is this precise: a session's document is written at most once per interval,
# not on every request that uses it.
LAST_USED_EVERY = timedelta(minutes=5)


def note_use(session):
    """Record that ``session`` (the live document just read) is in use, at most once per
    ``LAST_USED_EVERY``: the document already says when, so most requests write nothing."""
    now = utcnow()
    since = now - LAST_USED_EVERY
    last = session.get("last_used_at")
    if last is None:
        sessions.touch(session["_id"], now, None)  # a session from before the field
    elif as_utc(last) < since:
        sessions.touch(session["_id"], now, since)


def listing(caller):
    """The caller's live sessions, newest first, each with its device and whether it is the
    one this request comes from."""
    return [
        {
            "id": session["_id"],
            "device": session.get("device") or user_agents.describe(session.get("user_agent")),
            "created_at": session["created_at"],
            "last_used_at": session.get("last_used_at") or session["created_at"],
            "current": str(session["_id"]) == caller.session_id,
        }
        for session in sessions.live_of_user(caller.user["_id"])
    ]


def end(caller, session_id):
    """End one of the caller's sessions (its own included: that logs this client out).
    Another user's session is 404, exactly like an unknown id."""
    if not sessions.revoke_of_user(caller.user["_id"], session_id, "ended_by_user"):
        raise NotFound("No such session.", code="session_not_found")


def end_others(caller, reason="ended_by_user"):
    """End every session of the caller but the one this request comes from."""
    return sessions.revoke_others(caller.user["_id"], caller.session_id, reason)
