"""Login spends the same bcrypt work for an unknown email as for a wrong password."""

import time

import pytest

from tests.support.accounts import PASSWORD
from tests.support.passwords import bcrypt_costs


@pytest.fixture
def costly_app(make_app):
    return make_app(BCRYPT_ROUNDS=10)


@pytest.mark.parametrize("backend", ["mongomock"], indirect=True)
def test_unknown_email_costs_one_bcrypt_check_of_the_same_cost(costly_app, monkeypatch):
    client = costly_app.test_client()
    client.post("/auth/signup", json={"name": "A", "email": "a@example.com", "password": PASSWORD})
    seen = bcrypt_costs(monkeypatch)
    client.post("/auth/login", json={"email": "a@example.com", "password": "wrong-password"})
    client.post("/auth/login", json={"email": "nobody@example.com", "password": "wrong-password"})
    assert seen == [10, 10]


@pytest.mark.parametrize("backend", ["mongomock"], indirect=True)
def test_unknown_email_takes_about_as_long(costly_app):
    """A loose bound: a missing bcrypt check would make it ~100 times faster."""
    client = costly_app.test_client()
    client.post("/auth/signup", json={"name": "A", "email": "a@example.com", "password": PASSWORD})

    def median_seconds(email):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            client.post("/auth/login", json={"email": email, "password": "wrong-password"})
            times.append(time.perf_counter() - start)
        return sorted(times)[2]

    known, unknown = median_seconds("a@example.com"), median_seconds("nobody@example.com")
    assert 0.5 < unknown / known < 2.0
