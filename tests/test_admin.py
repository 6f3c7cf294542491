"""Admin bootstrap and user management (docs/accounts.md#admin-bootstrap)."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from app import create_app
from devtools.gunicorn_process import GunicornProcess
from models.db import get_db
from services.accounts import AdminEmailTaken
from tests.support.apps import test_config
from tests.support.errors import assert_error
from tests.support.tools import require_tool


def admins(app):
    with app.app_context():
        return list(get_db().users.find({"role": "admin"}))


def test_admin_is_created_from_the_environment(app):
    found = admins(app)
    assert [user["email"] for user in found] == ["admin@test.example"]


def test_bootstrap_is_idempotent(make_app):
    first = make_app()
    second = make_app()  # same database, a second start
    assert len(admins(second)) == 1
    assert admins(first)[0]["_id"] == admins(second)[0]["_id"]


def signed_up_first(app, email="boss@example.com", password="original-password"):
    """Someone registers the address before the admin bootstrap runs."""
    response = app.test_client().post(
        "/auth/signup", json={"name": "Boss", "email": email, "password": password}
    )
    assert response.status_code == 201, response.json


def role_of(app, email="boss@example.com"):
    with app.app_context():
        return get_db().users.find_one({"email": email})["role"]


def test_an_existing_account_is_promoted_when_admin_password_is_its_password(make_app):
    signed_up_first(make_app(ADMIN_EMAIL=None, ADMIN_PASSWORD=None))
    promoted = make_app(ADMIN_EMAIL="boss@example.com", ADMIN_PASSWORD="original-password")
    assert role_of(promoted) == "admin"
    login = promoted.test_client().post(
        "/auth/login", json={"email": "boss@example.com", "password": "original-password"}
    )
    assert login.json["user"]["role"] == "admin"


def test_an_account_with_another_password_stops_the_start_up(make_app, capsys):
    """Whoever registered ADMIN_EMAIL first must not become admin: start-up stops, saying why."""
    first = make_app(ADMIN_EMAIL=None, ADMIN_PASSWORD=None)
    signed_up_first(first)
    capsys.readouterr()
    with pytest.raises(AdminEmailTaken) as refused:
        make_app(ADMIN_EMAIL="boss@example.com", ADMIN_PASSWORD="the-operators-password")
    assert "someone else may have registered that address first" in str(refused.value)
    assert "boss@example.com" in str(refused.value)
    # One clear line in the log (JSON lines on stderr), whole: nothing in it was redacted.
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    (critical,) = [line for line in lines if line["level"] == "CRITICAL"]
    assert str(refused.value) in critical["message"]
    assert role_of(first) == "viewer"  # not promoted


def test_an_existing_admin_stays_as_it_is(make_app):
    signed_up_first(make_app(ADMIN_EMAIL=None, ADMIN_PASSWORD=None))
    make_app(ADMIN_EMAIL="boss@example.com", ADMIN_PASSWORD="original-password")
    # ADMIN_PASSWORD changed since: the admin keeps its role and its own password.
    again = make_app(ADMIN_EMAIL="boss@example.com", ADMIN_PASSWORD="a-newer-password")
    assert role_of(again) == "admin"
    client = again.test_client()
    kept = {"email": "boss@example.com", "password": "original-password"}
    assert client.post("/auth/login", json=kept).status_code == 200
    ignored = {"email": "boss@example.com", "password": "a-newer-password"}
    assert client.post("/auth/login", json=ignored).status_code == 401


@pytest.mark.slow
@pytest.mark.embedded
def test_gunicorn_does_not_start_when_admin_email_is_someone_elses(embedded_server, tmp_path):
    """The production command stops, with the reason in its log, instead of serving."""
    require_tool(Path(sys.executable).with_name("gunicorn").exists(), "gunicorn (make install)")
    uri = embedded_server.uri(f"admin_{uuid.uuid4().hex[:12]}")
    first = create_app(test_config(MONGODB_URI=uri, ADMIN_EMAIL=None, ADMIN_PASSWORD=None))
    signed_up_first(first)
    env = {
        **os.environ,
        "APP_ENV": "development",
        "MONGODB_URI": uri,
        "ADMIN_EMAIL": "boss@example.com",
        "ADMIN_PASSWORD": "the-operators-password",
        "RATELIMIT_ENABLED": "false",
    }
    server = GunicornProcess(env, tmp_path / "gunicorn.log", workers=1).start()
    try:
        returncode = server.process.wait(60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"gunicorn kept running:\n{server.log()}")
    finally:
        server.stop(timeout=5)
    try:
        assert returncode != 0
        assert "someone else may have registered that address first" in server.log()
        assert role_of(first) == "viewer"
    finally:
        with first.app_context():
            get_db().client.drop_database(get_db().name)
        first.extensions["mongo"].client.close()


def test_production_without_admin_settings_creates_nobody(make_app, monkeypatch):
    for name in ("SECRET_KEY", "JWT_SECRET_KEY", "PLAYBACK_SECRET_KEY"):
        monkeypatch.setenv(name, name.lower() * 4)
    app = make_app(APP_ENV="production", BCRYPT_ROUNDS=12, ADMIN_EMAIL=None, ADMIN_PASSWORD=None)
    assert admins(app) == []


class TestUserManagement:
    def test_admin_lists_users_with_pagination(self, client, accounts):
        admin = accounts.user_with_token("admin")
        for _ in range(3):
            accounts.signup()
        response = client.get("/admin/users?per_page=2", headers=accounts.bearer(admin))
        assert response.status_code == 200
        assert len(response.json["users"]) == 2
        assert response.json["pagination"]["has_more"] is True
        assert all("password_hash" not in user for user in response.json["users"])
        cursor = response.json["pagination"]["next_cursor"]
        page_two = client.get(
            f"/admin/users?per_page=2&cursor={cursor}", headers=accounts.bearer(admin)
        )
        assert len(page_two.json["users"]) == 2
        assert page_two.json["pagination"] == {
            "per_page": 2,
            "next_cursor": None,
            "has_more": False,
        }
        ids = [user["id"] for user in response.json["users"] + page_two.json["users"]]
        assert len(set(ids)) == 4

    def test_list_filters_by_role(self, client, accounts):
        admin = accounts.user_with_token("admin")
        accounts.signup(role="creator")
        accounts.signup()
        response = client.get("/admin/users?role=creator", headers=accounts.bearer(admin))
        assert [user["role"] for user in response.json["users"]] == ["creator"]

    @pytest.mark.parametrize(
        "query",
        [
            "per_page=101",
            "page=2",
            "per_page=abc",
            "cursor=forged",
            "role=root",
            "role[$ne]=viewer",
            "sort=email",
        ],
    )
    def test_bad_query_is_400(self, client, accounts, query):
        admin = accounts.user_with_token("admin")
        assert_error(client.get(f"/admin/users?{query}", headers=accounts.bearer(admin)), 400)

    @pytest.mark.parametrize("role", ["viewer", "creator"])
    def test_non_admins_are_403(self, client, accounts, role):
        user = accounts.user_with_token(role)
        assert_error(client.get("/admin/users", headers=accounts.bearer(user)), 403)
        target = accounts.signup()
        response = client.patch(
            f"/admin/users/{target['id']}/role",
            json={"role": "admin"},
            headers=accounts.bearer(user),
        )
        assert_error(response, 403)

    def test_anonymous_is_401(self, client):
        assert_error(client.get("/admin/users"), 401)

    def test_admin_changes_a_role(self, client, accounts):
        admin = accounts.user_with_token("admin")
        target = accounts.signup()
        response = client.patch(
            f"/admin/users/{target['id']}/role",
            json={"role": "creator"},
            headers=accounts.bearer(admin),
        )
        assert response.status_code == 200
        assert response.json["user"]["role"] == "creator"
        assert accounts.login(target["email"])["user"]["role"] == "creator"

    @pytest.mark.parametrize(
        "body", [{"role": "root"}, {"role": {"$set": "admin"}}, {}, {"role": "admin", "x": 1}]
    )
    def test_bad_role_body_is_400(self, client, accounts, body):
        admin = accounts.user_with_token("admin")
        target = accounts.signup()
        response = client.patch(
            f"/admin/users/{target['id']}/role", json=body, headers=accounts.bearer(admin)
        )
        assert_error(response, 400)

    @pytest.mark.parametrize("user_id", ["5f0000000000000000000001", "not-an-id"])
    def test_unknown_user_is_404(self, client, accounts, user_id):
        admin = accounts.user_with_token("admin")
        response = client.patch(
            f"/admin/users/{user_id}/role", json={"role": "creator"}, headers=accounts.bearer(admin)
        )
        assert_error(response, 404)

    def test_admin_cannot_demote_themselves(self, client, accounts):
        admin = accounts.user_with_token("admin")
        response = client.patch(
            f"/admin/users/{admin['user']['id']}/role",
            json={"role": "viewer"},
            headers=accounts.bearer(admin),
        )
        assert_error(response, 409)
