"""Deleting someone else's account: ``DELETE /admin/users/{id}``, for admins only, and never
the last admin, however two admins race (docs/accounts.md#deleting-an-account). What the
deletion removes is tests/test_account_deletion.py's, whose helpers these use."""

from models.common import object_id
from models.db import get_db
from services import account_deletion
from services import accounts as account_service
from tests.support.errors import assert_error
from tests.test_account_deletion import delete_me, jobs_done


def test_an_admin_deletes_a_user(app, client, accounts, library):
    admin = accounts.user_with_token("admin")
    user_id = library.owner["user"]["id"]
    response = client.delete(f"/admin/users/{user_id}", headers=accounts.bearer(admin))
    assert response.status_code == 202, response.json
    assert_error(client.get("/me/sessions", headers=accounts.bearer(library.owner)), 401)
    jobs_done(app)
    missing = client.delete(f"/admin/users/{user_id}", headers=accounts.bearer(admin))
    assert_error(missing, 404, "user_not_found")


def test_a_viewer_cannot_delete_others(client, accounts, library):
    viewer = accounts.user_with_token("viewer")
    user_id = library.owner["user"]["id"]
    response = client.delete(f"/admin/users/{user_id}", headers=accounts.bearer(viewer))
    assert_error(response, 403)


def test_the_last_admin_cannot_be_deleted(app, client, accounts):
    admin = accounts.user_with_token("admin")
    assert_error(delete_me(client, admin, app.config["ADMIN_PASSWORD"]), 409, "last_admin")
    admin_id = admin["user"]["id"]
    own = client.delete(f"/admin/users/{admin_id}", headers=accounts.bearer(admin))
    assert_error(own, 409, "last_admin")
    assert client.get("/me/sessions", headers=accounts.bearer(admin)).status_code == 200


def test_an_admin_deletes_another_admin_through_the_guard(app, client, accounts):
    first = accounts.user_with_token("admin")
    second = accounts.user_with_token("viewer")
    promoted = client.patch(
        f"/admin/users/{second['user']['id']}/role",
        json={"role": "admin"},
        headers=accounts.bearer(first),
    )
    assert promoted.status_code == 200
    second = accounts.login(second["user"]["email"])
    gone = client.delete(f"/admin/users/{second['user']['id']}", headers=accounts.bearer(first))
    assert gone.status_code == 202
    jobs_done(app)
    with app.app_context():
        guard = get_db().admin_guard.find_one({"_id": "admins"})
    assert guard["ids"] == [object_id(first["user"]["id"])]
    own = client.delete(f"/admin/users/{first['user']['id']}", headers=accounts.bearer(first))
    assert_error(own, 409, "last_admin")


def test_two_admins_deleting_each_other_leave_one(app, client, accounts):
    """The second deletion finds the guard with one admin left: 409, whatever the order."""
    first = accounts.user_with_token("admin")
    second = accounts.user_with_token("viewer")
    client.patch(
        f"/admin/users/{second['user']['id']}/role",
        json={"role": "admin"},
        headers=accounts.bearer(first),
    )
    second = accounts.login(second["user"]["email"])
    with app.app_context():  # both requests already past their session check
        callers = [account_service.authenticate(bundle["token"]) for bundle in (first, second)]
    with app.test_request_context():
        account_deletion.delete_user(callers[0], object_id(second["user"]["id"]))
        try:
            account_deletion.delete_user(callers[1], object_id(first["user"]["id"]))
        except Exception as error:
            assert getattr(error, "code", None) == "last_admin"
        else:
            raise AssertionError("both admins were deleted")
    jobs_done(app)
    with app.app_context():
        assert get_db().users.count_documents({"role": "admin"}) == 1
