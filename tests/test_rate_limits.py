"""flask-limiter on signup and login: 429 JSON with Retry-After.

On the embedded backend the counters live in MongoDB (the default storage,
shared by all workers); on mongomock they live in memory.
"""

import pytest

from tests.support.accounts import PASSWORD
from tests.support.errors import assert_error


@pytest.fixture
def limited_app(make_app, backend, database_uri):
    storage = database_uri if backend == "embedded" else "memory://"
    return make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage)


def login_attempt(client, address="203.0.113.7"):
    return client.post(
        "/auth/login",
        json={"email": "who@example.com", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": address},
    )


def test_eleventh_login_in_a_minute_is_429(limited_app):
    client = limited_app.test_client()
    statuses = [login_attempt(client).status_code for _ in range(10)]
    assert statuses == [401] * 10
    response = login_attempt(client)
    assert_error(response, 429, "too_many_requests")
    assert int(response.headers["Retry-After"]) > 0


def test_the_limit_is_per_client(limited_app):
    client = limited_app.test_client()
    for _ in range(11):
        login_attempt(client)
    assert login_attempt(client, address="198.51.100.9").status_code == 401


def test_signup_is_limited(limited_app):
    client = limited_app.test_client()
    statuses = [
        client.post(
            "/auth/signup", json={"name": "N", "email": f"u{i}@example.com", "password": PASSWORD}
        ).status_code
        for i in range(6)
    ]
    assert statuses == [201] * 5 + [429]


def test_counters_are_stored_in_mongodb_by_default(make_app, backend, database_uri):
    if backend != "embedded":
        pytest.skip("mongomock has no wire protocol for the limiter's own client")
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=None)
    assert app.config["RATELIMIT_STORAGE_URI"] == database_uri
    login_attempt(app.test_client())
    with app.app_context():
        from models.db import get_db

        assert get_db().rate_limit_counters.count_documents({}) >= 1


def test_forwarded_for_is_ignored_without_trusted_proxies(limited_app):
    client = limited_app.test_client()
    for i in range(10):
        client.post(
            "/auth/login",
            json={"email": "x@example.com", "password": PASSWORD},
            headers={"X-Forwarded-For": f"10.0.0.{i}"},
        )
    spoofed = client.post(
        "/auth/login",
        json={"email": "x@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": "10.9.9.9"},
    )
    assert spoofed.status_code == 429


def test_each_app_has_its_own_default_limit(make_app, backend, database_uri):
    """The limiter object is global; a second app's RATELIMIT_DEFAULT must still hold."""
    storage = database_uri if backend == "embedded" else "memory://"
    tight = make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage, RATELIMIT_DEFAULT="2 per minute"
    )
    loose = make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage, RATELIMIT_DEFAULT="50 per minute"
    )
    tight_client, loose_client = tight.test_client(), loose.test_client()
    tight_codes = [
        tight_client.get("/health", environ_base={"REMOTE_ADDR": "203.0.113.20"}).status_code
        for _ in range(3)
    ]
    loose_codes = [
        loose_client.get("/health", environ_base={"REMOTE_ADDR": "203.0.113.21"}).status_code
        for _ in range(10)
    ]
    assert tight_codes[-1] == 429
    assert 429 not in loose_codes
