"""The last admin stays one, even when two admins demote each other at the same moment.

"Another admin remains" was a read, then a write: two admins demoting each other at once
could both succeed and leave none. It is now one conditional update of the admins guard
(models/admins.py): exactly one demotion wins, the other is 409 ``last_admin``.
"""

from functools import partial

from bson import ObjectId

from models import user as users
from models.db import get_db
from tests.support.concurrency import InFlight, all_at_once
from tests.support.errors import assert_error

ROUNDS = 10


def admin_ids(app):
    with app.app_context():
        return {str(user["_id"]) for user in get_db().users.find({"role": "admin"})}


def set_role(client, accounts, acting, target_id, role):
    return client.patch(
        f"/admin/users/{target_id}/role", json={"role": role}, headers=accounts.bearer(acting)
    )


def two_admins(client, accounts):
    """The bootstrapped admin and a second one it promoted, both signed in."""
    first = accounts.user_with_token("admin")
    second = accounts.user_with_token("viewer")
    promoted = set_role(client, accounts, first, second["user"]["id"], "admin")
    assert promoted.status_code == 200, promoted.json
    return first, second


def test_two_admins_demoting_each_other_leave_one(app, client, accounts, monkeypatch):
    """Interleaved deterministically: the second demotion runs while the first is between
    its check and its write (where the old code read "another admin remains")."""
    first, second = two_admins(client, accounts)
    real_set_role, replies, started = users.set_role, [], []

    def the_other_demotion_first(*args, **kwargs):
        if not started:  # once: the other demotion reaches this point too, on the old code
            started.append(True)
            replies.append(
                set_role(app.test_client(), accounts, second, first["user"]["id"], "viewer")
            )
        return real_set_role(*args, **kwargs)

    monkeypatch.setattr(users, "set_role", the_other_demotion_first)
    reply = set_role(client, accounts, first, second["user"]["id"], "viewer")

    assert reply.status_code == 200, reply.json
    assert_error(replies[0], 409, "last_admin")
    assert admin_ids(app) == {first["user"]["id"]}


def test_the_last_admin_can_make_another_and_then_step_down(app, client, accounts):
    first, second = two_admins(client, accounts)
    assert set_role(client, accounts, second, first["user"]["id"], "creator").status_code == 200
    assert admin_ids(app) == {second["user"]["id"]}
    assert set_role(client, accounts, second, first["user"]["id"], "admin").status_code == 200
    assert set_role(client, accounts, first, second["user"]["id"], "viewer").status_code == 200
    assert admin_ids(app) == {first["user"]["id"]}


def test_a_database_from_before_the_guard_counts_its_admins(make_app, accounts):
    """The guard is made from the admins already there, so an upgrade changes no answer."""
    app = make_app()
    client = app.test_client()
    first, second = two_admins(client, accounts.__class__(client, app))
    with app.app_context():
        get_db().admin_guard.drop()
    restarted = make_app()
    with restarted.app_context():
        listed = {str(i) for i in get_db().admin_guard.find_one({"_id": "admins"})["ids"]}
    assert listed == {first["user"]["id"], second["user"]["id"]}
    reply = set_role(restarted.test_client(), accounts, first, second["user"]["id"], "viewer")
    assert reply.status_code == 200, reply.json


def test_racing_demotions_always_leave_exactly_one_admin(app, make_app, accounts, backend):
    """For real, many rounds: both demotions released together, on two app instances on the
    embedded server (one app on mongomock, whose clients do not share data)."""
    in_flight = InFlight()
    apps = [in_flight.wrap(app)]
    if backend == "embedded":
        apps.append(in_flight.wrap(make_app()))
    client = app.test_client()
    first, second = two_admins(client, accounts)
    for _ in range(ROUNDS):
        replies = all_at_once(
            [
                partial(
                    set_role, apps[0].test_client(), accounts, first, second["user"]["id"], "viewer"
                ),
                partial(
                    set_role,
                    apps[-1].test_client(),
                    accounts,
                    second,
                    first["user"]["id"],
                    "viewer",
                ),
            ]
        )
        winners = [reply for reply in replies if reply.status_code == 200]
        assert len(winners) == 1, [reply.get_json() for reply in replies]
        (loser,) = (reply for reply in replies if reply.status_code != 200)
        # Past its sign-in check when the other won: the guard refuses it. Signed in after:
        # it is no admin any more.
        assert (loser.status_code, loser.json["code"]) in {
            (409, "last_admin"),
            (403, "insufficient_role"),
        }
        survivors = admin_ids(app)
        assert len(survivors) == 1
        survivor = first if survivors == {first["user"]["id"]} else second
        demoted = second if survivor is first else first
        assert (
            set_role(client, accounts, survivor, demoted["user"]["id"], "admin").status_code == 200
        )
    if backend == "embedded":
        assert in_flight.peak >= 2, "the demotions never overlapped: this was not a race"


def test_a_role_changed_meanwhile_is_409_not_a_silent_overwrite(app, client, accounts, monkeypatch):
    """A viewer promoted to admin between the check and the write must not be demoted
    without the guard hearing of it: the write is conditional on the role it checked."""
    admin = accounts.user_with_token("admin")
    target = accounts.signup()
    real_set_role = users.set_role

    def promoted_meanwhile(user_id, role, current_role):
        with app.app_context():
            get_db().users.update_one({"_id": ObjectId(target["id"])}, {"$set": {"role": "admin"}})
        return real_set_role(user_id, role, current_role)

    monkeypatch.setattr(users, "set_role", promoted_meanwhile)
    reply = set_role(client, accounts, admin, target["id"], "creator")
    assert_error(reply, 409, "role_changed")
