"""Five protections that were in the code with no test to prove them (SECURITY.md).

- ``RATELIMIT_REFRESH``: the 31st ``POST /auth/refresh`` in a minute from one IP is
  429 with the JSON error shape and Retry-After, whether the refresh tokens were real
  (a rotating chain) or guesses; another IP keeps its own budget.
- The media limiter's key is the verified playback token's ``jti``: its MongoDB
  collections hold a counter for it, and neither the token nor its JWT signature.
- CORS never allows credentials: no ``Access-Control-Allow-Credentials`` on a preflight
  or on a simple response, for an allowed origin.
- A password over 72 bytes counts in full (the pre-hash), never matched on its first 72
  bytes: over HTTP and in ``services/passwords.py: check``.
- A refresh for a user deleted from the database is 401 and revokes that session.
"""

import time

import pytest
from bson import ObjectId, json_util
from flask import Flask

from blueprints.common.byte_limits import SYNC_SECONDS
from models.db import get_db
from services import passwords, tokens
from tests.support.accounts import Accounts, Library
from tests.support.errors import assert_error

CLIENT_IP = "203.0.113.7"
OTHER_IP = "198.51.100.9"
REFRESHES_PER_MINUTE = 30  # config.py's default RATELIMIT_REFRESH
WEB_APP = "https://player.example"
# 120 characters, 160 bytes: plain bcrypt would have read only its first 72 bytes.
LONG_PASSWORD = "correct horse battery staple " * 2 + "éèêë" * 10 + "0123456789" * 2 + "!!"
FIRST_72_BYTES = LONG_PASSWORD.encode("utf-8")[:72].decode("utf-8")


def assert_too_many_requests(response):
    assert_error(response, 429, "too_many_requests")
    assert int(response.headers.get("Retry-After", 0)) > 0


class TestRefreshRateLimit:
    @pytest.fixture
    def limited_app(self, make_app, backend, database_uri):
        # As in test_rate_limits.py: counters in MongoDB on the real server, in memory on
        # mongomock (the limiter's own pymongo client cannot reach mongomock).
        storage = database_uri if backend == "embedded" else "memory://"
        return make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage)

    @pytest.fixture
    def client(self, limited_app):
        return limited_app.test_client()

    @pytest.fixture
    def refresh_token(self, limited_app, client):
        return Accounts(client, limited_app).user_with_token()["refresh_token"]

    @staticmethod
    def refresh(client, refresh_token, address=CLIENT_IP):
        return client.post(
            "/auth/refresh",
            json={"refresh_token": refresh_token},
            environ_base={"REMOTE_ADDR": address},
        )

    def test_the_31st_refresh_in_a_minute_is_429(self, client, refresh_token):
        for _ in range(REFRESHES_PER_MINUTE):
            response = self.refresh(client, refresh_token)
            assert response.status_code == 200, response.json
            # Rotation: the token just used is spent, so a real client presents the new one.
            refresh_token = response.json["refresh_token"]
        assert_too_many_requests(self.refresh(client, refresh_token))

    def test_guessed_refresh_tokens_use_up_the_budget(self, client, refresh_token):
        # The limit is checked before the token is read, so guessing is limited too.
        statuses = [
            self.refresh(client, "guessed-token").status_code for _ in range(REFRESHES_PER_MINUTE)
        ]
        assert statuses == [401] * REFRESHES_PER_MINUTE
        assert_too_many_requests(self.refresh(client, refresh_token))

    def test_another_ip_keeps_its_own_budget(self, client, refresh_token):
        for _ in range(REFRESHES_PER_MINUTE):
            self.refresh(client, "guessed-token")
        # The first address is limited now (else the other's 200 proves nothing)...
        assert_too_many_requests(self.refresh(client, "guessed-token"))
        # ...and the other still has its whole budget.
        assert self.refresh(client, refresh_token, address=OTHER_IP).status_code == 200


class TestMediaLimiterStoresNoToken:
    @pytest.fixture
    def backend(self):
        # Only the real server: the point is what lands in MongoDB, and the limiter's own
        # pymongo client cannot reach mongomock.
        return "embedded"

    @pytest.fixture
    def limited_app(self, make_app):
        # No storage URI: the production default, counters in the app's own database.
        return make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=None)

    @pytest.fixture
    def playback_token(self, limited_app, multi_chunk_mp4):
        client = limited_app.test_client()
        library = Library(limited_app, client, Accounts(client, limited_app))
        video = library.ready_video(multi_chunk_mp4)
        token = library.playback_token(video["id"], library.accounts.user_with_token())
        for pause in (0, 0, SYNC_SECONDS):  # the third adds the batch to the shared count
            time.sleep(pause)
            response = client.get(
                f"/video/{video['id']}/media",
                query_string={"token": token},
                headers={"Range": "bytes=0-1"},
            )
            assert response.status_code == 206
        return token

    @staticmethod
    def stored_limiter_documents(app):
        options = app.config["RATELIMIT_STORAGE_OPTIONS"]
        names = (options["counter_collection_name"], options["window_collection_name"])
        with app.app_context():
            return [document for name in names for document in get_db()[name].find()]

    def test_a_counter_exists_for_the_jti_and_the_token_is_nowhere(
        self, limited_app, playback_token
    ):
        documents = self.stored_limiter_documents(limited_app)
        stored = json_util.dumps(documents)
        assert playback_token not in stored
        # The signature is the part only the server can make: alone it must not be kept either.
        assert playback_token.rsplit(".", 1)[1] not in stored
        # The scan did see the limiter's records: the three media requests, under the token's
        # jti (an id, which plays nothing without the signed token around it).
        with limited_app.app_context():
            jti = tokens.decode(playback_token, tokens.PLAYBACK)["jti"]
        counts = [doc["count"] for doc in documents if f"token:{jti}" in str(doc["_id"])]
        assert counts == [3]


class TestCorsWithoutCredentials:
    # Listed origins and the shipped default ("*"): neither may allow credentials.
    @pytest.fixture(params=[[WEB_APP], ["*"]], ids=["listed-origin", "any-origin"])
    def cors_client(self, request, make_app):
        return make_app(CORS_ORIGINS=request.param).test_client()

    @staticmethod
    def assert_cors_without_credentials(response):
        # CORS did answer (else the missing header would prove nothing)...
        assert response.headers["Access-Control-Allow-Origin"] in (WEB_APP, "*")
        # ...and never lets a browser send cookies or HTTP auth along.
        assert "Access-Control-Allow-Credentials" not in response.headers

    def test_a_preflight_does_not_allow_credentials(self, cors_client):
        response = cors_client.options(
            "/auth/me",
            headers={
                "Origin": WEB_APP,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "Authorization",
            },
        )
        assert response.status_code == 200
        self.assert_cors_without_credentials(response)

    def test_a_simple_get_does_not_allow_credentials(self, cors_client):
        response = cors_client.get("/", headers={"Origin": WEB_APP})
        assert response.status_code == 200
        self.assert_cors_without_credentials(response)


class TestPasswordsOver72Bytes:
    """bcrypt reads 72 bytes; the pre-hash makes every byte of a longer password count."""

    def test_a_long_password_works_in_full_and_its_first_72_bytes_do_not(self, client, accounts):
        assert len(LONG_PASSWORD) <= 128 and len(LONG_PASSWORD.encode("utf-8")) > 72
        email = accounts.signup(password=LONG_PASSWORD)["email"]
        exact = client.post("/auth/login", json={"email": email, "password": LONG_PASSWORD})
        assert exact.status_code == 200
        for wrong in (FIRST_72_BYTES, LONG_PASSWORD + "!", LONG_PASSWORD[:-1]):
            response = client.post("/auth/login", json={"email": email, "password": wrong})
            body = assert_error(response, 401, "invalid_credentials")
            assert body["error"] == "Invalid email or password"

    @pytest.fixture
    def bcrypt_settings(self):
        # check() reads only BCRYPT_ROUNDS from the app: no database is needed.
        app = Flask(__name__)
        app.config["BCRYPT_ROUNDS"] = 4
        with app.app_context():
            yield

    @pytest.mark.usefixtures("bcrypt_settings")
    def test_check_counts_every_byte(self):
        stored = passwords.hash_password(LONG_PASSWORD)
        assert passwords.check(LONG_PASSWORD, stored)
        assert not passwords.check(FIRST_72_BYTES, stored)
        assert not passwords.check(LONG_PASSWORD + "!", stored)
        assert not passwords.check(LONG_PASSWORD[:-1] + "é", stored)


class TestRefreshForADeletedUser:
    """No route deletes users today; an operator may, in MongoDB. Their sessions must die."""

    def test_the_refresh_is_401_and_the_session_is_revoked(self, app, client, accounts):
        bundle = accounts.user_with_token()
        with app.app_context():
            get_db().users.delete_one({"_id": ObjectId(bundle["user"]["id"])})
        response = client.post("/auth/refresh", json={"refresh_token": bundle["refresh_token"]})
        assert_error(response, 401, "invalid_token")
        with app.app_context():
            (session,) = get_db().sessions.find({"user_id": ObjectId(bundle["user"]["id"])})
        assert session["revoked_reason"] == "user_deleted"
        assert_error(client.get("/auth/me", headers=accounts.bearer(bundle)), 401)
