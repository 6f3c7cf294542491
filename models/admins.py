"""The admins guard: one document listing the admins, so "another admin remains" is atomic.

A user's role lives in its own document, and MongoDB updates one document atomically:
"demote B if some other admin remains" cannot be one update of ``users``. Read, then write
was a race: two admins demoting each other at once both saw the other remain, and none
was left. Transactions would do it, but MongoDB 7 as deployed (a standalone server), the
embedded server and mongomock have none. So the admins' ids also live in one document,
``admin_guard`` ``{_id: "admins", ids: [...]}``, and stepping down is one conditional
``$pull`` there: it removes an id only while the list holds another one. Of two admins
demoting each other, the second pull finds the list too short, whatever the timing.

The guard may list fewer admins than ``users`` (a process that died between the two
writes), never more: an id leaves the guard before its role changes and joins it after,
so a stale guard only refuses a demotion that would have been allowed. Promoting the
account again repairs it.
"""

from models.db import get_db
from models.vocabulary import ADMIN

GUARD_ID = "admins"


class LastAdmin(Exception):
    """The account is the only admin the guard lists: it must stay one."""


def collection():
    return get_db().admin_guard


def ensure():
    """Create the guard from the accounts that are admins now, if there is none yet.

    Only an insert (``$setOnInsert``): once the guard exists it is the authority, and a
    list read before a concurrent change can never overwrite it."""
    ids = [user["_id"] for user in get_db().users.find({"role": ADMIN}, {"_id": 1})]
    collection().update_one({"_id": GUARD_ID}, {"$setOnInsert": {"ids": ids}}, upsert=True)


def join(user_id):
    """Count ``user_id`` as an admin; call after its role became ``admin``."""
    ensure()
    collection().update_one({"_id": GUARD_ID}, {"$addToSet": {"ids": user_id}})


def step_down(user_id):
    """Stop counting ``user_id`` as an admin, unless it is the last one (LastAdmin); call
    before its role stops being ``admin``. Every way out of the admin role (a demotion
    now, an account deletion later) goes through here."""
    ensure()
    left = collection().update_one(
        {"_id": GUARD_ID, "ids": user_id, "ids.1": {"$exists": True}},
        {"$pull": {"ids": user_id}},
    )
    if left.modified_count:
        return
    if collection().count_documents({"_id": GUARD_ID, "ids": user_id}):
        raise LastAdmin(user_id)
    # Not listed: already stepped down (a concurrent demotion of the same account), or a
    # promotion that died before joining. Either way the list loses nobody.
