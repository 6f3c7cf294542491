"""Accounts over HTTP (docs/accounts.md), on both database backends."""

import threading

import pytest

from tests.support.accounts import PASSWORD
from tests.support.errors import assert_error


def signup_body(**overrides):
    body = {"name": "Ada Lovelace", "email": "ada@example.com", "password": PASSWORD}
    body.update(overrides)
    return body


class TestSignup:
    def test_creates_a_viewer_and_answers_201(self, client):
        response = client.post("/auth/signup", json=signup_body())
        assert response.status_code == 201
        body = response.json
        assert body["message"]
        assert body["user_id"] == body["user"]["id"]
        assert len(body["user_id"]) == 24
        assert body["user"]["role"] == "viewer"
        assert body["user"]["email"] == "ada@example.com"
        assert body["user"]["created_at"].endswith("Z")
        assert "password" not in str(body) and "password_hash" not in body["user"]

    def test_creator_role_may_be_chosen(self, client):
        response = client.post("/auth/signup", json=signup_body(role="creator"))
        assert response.status_code == 201
        assert response.json["user"]["role"] == "creator"

    def test_admin_is_never_self_granted(self, client):
        details = assert_error(client.post("/auth/signup", json=signup_body(role="admin")), 400)
        assert "role" in details["details"]

    def test_duplicate_email_is_409(self, client):
        assert client.post("/auth/signup", json=signup_body()).status_code == 201
        assert_error(client.post("/auth/signup", json=signup_body()), 409, "email_taken")

    def test_email_is_trimmed_and_case_insensitive(self, client):
        first = client.post("/auth/signup", json=signup_body(email="  Ada@Example.COM "))
        assert first.status_code == 201
        assert first.json["user"]["email"] == "ada@example.com"
        assert_error(client.post("/auth/signup", json=signup_body(email="ADA@example.com")), 409)
        login = client.post("/auth/login", json={"email": "AdA@EXAMPLE.com ", "password": PASSWORD})
        assert login.status_code == 200

    @pytest.mark.parametrize(
        "password, sentence",
        [
            ("short7!", "Password must be at least 8 characters."),
            ("é" * 7, "Password must be at least 8 characters."),  # 14 bytes, 7 characters
            ("日本語", "Password must be at least 8 characters."),  # 9 bytes, 3 characters
            ("x" * 129, "Password must be at most 128 characters."),
        ],
    )
    def test_password_outside_8_to_128_characters_is_refused(self, client, password, sentence):
        body = assert_error(client.post("/auth/signup", json=signup_body(password=password)), 400)
        assert body["details"] == {"password": [sentence]}
        assert body["error"] == sentence

    @pytest.mark.parametrize(
        "password",
        [
            "x" * 128,
            "€" * 25,  # 75 bytes: refused while bcrypt's 72-byte limit leaked into the rule
            "😀" * 128,  # 512 bytes
            "日本語のパスワード",  # 9 characters, 27 bytes
            "nul \x00 and tab \t inside",
            ("correct horse battery staple " * 3)[:72] + " and more",
        ],
        ids=["128-ascii", "75-bytes", "512-bytes", "japanese", "control-characters", "past-72"],
    )
    def test_any_password_of_8_to_128_characters_works_whole(self, client, password):
        assert client.post("/auth/signup", json=signup_body(password=password)).status_code == 201
        ok = client.post("/auth/login", json={"email": "ada@example.com", "password": password})
        assert ok.status_code == 200
        # Nothing was cut: neither its first 72 bytes nor all but its last character log in.
        first_72_bytes = password.encode()[:72].decode(errors="ignore")
        for prefix in {first_72_bytes, password[:-1]} - {password}:
            wrong = client.post(
                "/auth/login", json={"email": "ada@example.com", "password": prefix}
            )
            assert wrong.status_code == 401, prefix

    @pytest.mark.parametrize(
        "overrides, field",
        [
            ({"email": "not-an-email"}, "email"),
            ({"name": ""}, "name"),
            ({"name": "   "}, "name"),
            ({"name": "n" * 101}, "name"),
            ({"email": "a" * 250 + "@example.com"}, "email"),
            ({"email": {"$ne": None}}, "email"),
            ({"password": {"$gt": ""}}, "password"),
            ({"name": ["Ada"]}, "name"),
            ({"name": 42}, "name"),
            ({"is_admin": True}, "is_admin"),
        ],
    )
    def test_invalid_fields_are_400_with_details(self, client, overrides, field):
        body = assert_error(
            client.post("/auth/signup", json=signup_body(**overrides)), 400, "validation_error"
        )
        assert field in body["details"]

    def test_missing_fields_are_named(self, client):
        body = assert_error(client.post("/auth/signup", json={}), 400)
        assert set(body["details"]) == {"name", "email", "password"}

    def test_malformed_json_is_400(self, client):
        response = client.post("/auth/signup", data="{not json", content_type="application/json")
        assert_error(response, 400)

    def test_racing_signups_with_one_email_give_one_user(self, app):
        statuses = []
        barrier = threading.Barrier(8)

        def sign_up():
            client = app.test_client()
            barrier.wait()
            statuses.append(client.post("/auth/signup", json=signup_body()).status_code)

        threads = [threading.Thread(target=sign_up) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [201] + [409] * 7
        with app.app_context():
            from models.db import get_db

            assert get_db().users.count_documents({"email": "ada@example.com"}) == 1


class TestLogin:
    @pytest.fixture
    def ada(self, client):
        assert client.post("/auth/signup", json=signup_body()).status_code == 201

    def test_login_answers_what_the_client_reads(self, client, ada):
        response = client.post(
            "/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
        )
        assert response.status_code == 200
        body = response.json
        assert body["token"] == body["access_token"]
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 3600
        assert body["refresh_token"] and body["refresh_token"] != body["token"]
        assert body["user"] == {
            "id": body["user"]["id"],
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "role": "viewer",
            "email_verified": False,
            "created_at": body["user"]["created_at"],
        }

    def test_wrong_password_and_unknown_email_look_the_same(self, client, ada):
        wrong = client.post(
            "/auth/login", json={"email": "ada@example.com", "password": "nope-nope"}
        )
        unknown = client.post(
            "/auth/login", json={"email": "bob@example.com", "password": PASSWORD}
        )
        assert_error(wrong, 401, "invalid_credentials")
        assert_error(unknown, 401, "invalid_credentials")
        assert wrong.json == unknown.json
        assert wrong.json["error"] == "Invalid email or password"

    @pytest.mark.parametrize(
        "body",
        [
            {"email": {"$ne": None}, "password": {"$ne": None}},
            {"email": {"$gt": ""}, "password": PASSWORD},
            {"email": "ada@example.com", "password": {"$regex": ".*"}},
            {"email": ["ada@example.com"], "password": PASSWORD},
            {"email": "ada@example.com"},
        ],
    )
    def test_operator_payloads_are_400_never_a_query(self, client, ada, body):
        assert_error(client.post("/auth/login", json=body), 400, "validation_error")

    def test_form_encoded_body_is_not_json(self, client, ada):
        response = client.post(
            "/auth/login", data={"email": "ada@example.com", "password": PASSWORD}
        )
        assert_error(response, 400)


class TestAccountsFromBeforeThePreHash:
    """Accounts made when the hash was plain bcrypt of the password (at most 72 bytes)."""

    @staticmethod
    def legacy_account(app, password, email="old@example.com"):
        import bcrypt

        from models import user as users

        legacy_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()
        with app.app_context():
            users.insert("Old Timer", email, legacy_hash, "viewer")
        return legacy_hash

    @staticmethod
    def stored_hash(app, email="old@example.com"):
        from models.db import get_db

        with app.app_context():
            return get_db().users.find_one({"email": email})["password_hash"]

    @pytest.mark.parametrize("password", ["old-password", "日本語", "é" * 36])
    def test_they_log_in_and_their_hash_is_upgraded(self, app, client, password):
        from services import passwords

        legacy_hash = self.legacy_account(app, password)
        login = {"email": "old@example.com", "password": password}
        assert client.post("/auth/login", json=login).status_code == 200
        upgraded = self.stored_hash(app)
        assert upgraded != legacy_hash and upgraded.startswith(passwords.PREHASHED)
        assert client.post("/auth/login", json=login).status_code == 200  # with the new hash
        assert self.stored_hash(app) == upgraded  # upgraded once

    def test_a_wrong_password_changes_nothing(self, app, client):
        legacy_hash = self.legacy_account(app, "old-password")
        wrong = client.post(
            "/auth/login", json={"email": "old@example.com", "password": "nope1234"}
        )
        assert_error(wrong, 401, "invalid_credentials")
        assert self.stored_hash(app) == legacy_hash

    def test_a_password_longer_than_72_bytes_is_a_miss_not_an_error(self, app, client):
        self.legacy_account(app, "x" * 72)
        longer = client.post("/auth/login", json={"email": "old@example.com", "password": "x" * 80})
        assert_error(longer, 401, "invalid_credentials")


class TestSession:
    def test_me_returns_the_user(self, client, accounts):
        bundle = accounts.user_with_token()
        response = client.get("/auth/me", headers=accounts.bearer(bundle))
        assert response.status_code == 200
        assert response.json["user"]["id"] == bundle["user"]["id"]
        assert response.json["user"]["created_at"].endswith("Z")

    @pytest.mark.parametrize(
        "header",
        [None, "Bearer", "Bearer ", "Token abc", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz"],
    )
    def test_me_without_a_valid_token_is_401(self, client, header):
        headers = {"Authorization": header} if header is not None else {}
        response = client.get("/auth/me", headers=headers)
        assert_error(response, 401)
        assert response.headers["WWW-Authenticate"] == "Bearer"

    def test_logout_revokes_the_token_at_once(self, client, accounts):
        bundle = accounts.user_with_token()
        assert client.post("/auth/logout", headers=accounts.bearer(bundle)).status_code == 200
        assert_error(
            client.get("/auth/me", headers=accounts.bearer(bundle)), 401, "session_revoked"
        )
        assert_error(
            client.post("/auth/refresh", json={"refresh_token": bundle["refresh_token"]}), 401
        )

    def test_logout_ends_only_that_session(self, client, accounts):
        user = accounts.signup()
        phone, laptop = accounts.login(user["email"]), accounts.login(user["email"])
        client.post("/auth/logout", headers=accounts.bearer(phone))
        assert client.get("/auth/me", headers=accounts.bearer(laptop)).status_code == 200

    def test_refresh_rotates_the_pair(self, client, accounts):
        first = accounts.user_with_token()
        response = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert response.status_code == 200
        second = response.json
        assert second["token"] == second["access_token"]
        assert second["refresh_token"] != first["refresh_token"]
        assert second["user"]["id"] == first["user"]["id"]
        assert client.get("/auth/me", headers=accounts.bearer(second)).status_code == 200
        again = client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
        assert again.status_code == 200

    def test_a_reused_refresh_token_kills_the_session(self, client, accounts):
        first = accounts.user_with_token()
        second = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}).json
        # Rotated once more, so ``first`` is no longer the token just before the current one
        # (that one has a few seconds' grace for a retry: test_refresh_retry.py).
        client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]})
        replay = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert_error(replay, 401)
        # Theft detection: the thief's replay ends the session for everyone.
        assert_error(client.get("/auth/me", headers=accounts.bearer(second)), 401)
        assert_error(
            client.post("/auth/refresh", json={"refresh_token": second["refresh_token"]}), 401
        )

    def test_access_token_is_not_a_refresh_token_and_back(self, client, accounts):
        bundle = accounts.user_with_token()
        assert_error(client.post("/auth/refresh", json={"refresh_token": bundle["token"]}), 401)
        assert_error(client.get("/auth/me", headers=accounts.bearer(bundle["refresh_token"])), 401)

    def test_demotion_takes_effect_on_the_next_request(self, client, accounts):
        admin = accounts.user_with_token("admin")
        creator = accounts.user_with_token("creator")
        path = f"/admin/users/{creator['user']['id']}/role"
        client.patch(path, json={"role": "viewer"}, headers=accounts.bearer(admin))
        me = client.get("/auth/me", headers=accounts.bearer(creator))
        assert me.json["user"]["role"] == "viewer"
