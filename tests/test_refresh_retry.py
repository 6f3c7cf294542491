"""Refresh token rotation with a grace window for a client's concurrent retry.

Presenting a used refresh token revokes its session (theft detection), except the token
just rotated away, within ``REFRESH_GRACE_SECONDS`` (10) of its rotation: that gets the
very pair it was rotated to (docs/accounts.md#refresh). Two refreshes at once with one
token (an app resuming with two requests in flight) used to log the user out.

The window is left by moving the session's rotation back in the database, never by
waiting: no test here depends on timing.
"""

from datetime import timedelta
from functools import partial

from bson import ObjectId

from models.db import get_db
from services import tokens
from tests.support.concurrency import InFlight, all_at_once
from tests.support.errors import assert_error


def refresh(client, bundle):
    return client.post("/auth/refresh", json={"refresh_token": bundle["refresh_token"]})


def pair_of(body):
    return body["access_token"], body["refresh_token"]


def session_of(app, bundle):
    with app.app_context():
        session_id = tokens.decode(bundle["refresh_token"], tokens.REFRESH)["sid"]
        return get_db().sessions.find_one({"_id": ObjectId(session_id)})


def leave_the_grace_window(app, bundle):
    """As if the last rotation happened a second longer ago than the window lasts."""
    session = session_of(app, bundle)
    moved = session["refreshed_at"] - timedelta(seconds=app.config["REFRESH_GRACE_SECONDS"] + 1)
    with app.app_context():
        get_db().sessions.update_one({"_id": session["_id"]}, {"$set": {"refreshed_at": moved}})


def assert_session_ended(client, accounts, *bundles):
    for bundle in bundles:
        assert_error(client.get("/auth/me", headers=accounts.bearer(bundle)), 401)
        assert_error(refresh(client, bundle), 401)


class TestGraceWindow:
    def test_the_previous_token_at_once_gets_the_same_pair(self, client, accounts):
        first = accounts.user_with_token()
        second = refresh(client, first).json
        retry = refresh(client, first)
        assert retry.status_code == 200, retry.json
        assert pair_of(retry.json) == pair_of(second)
        assert client.get("/auth/me", headers=accounts.bearer(second)).status_code == 200
        third = refresh(client, second)
        assert third.status_code == 200, third.json
        assert pair_of(third.json) != pair_of(second)

    def test_the_previous_token_after_the_window_revokes_the_session(self, app, client, accounts):
        first = accounts.user_with_token()
        second = refresh(client, first).json
        leave_the_grace_window(app, first)
        assert_error(refresh(client, first), 401, "invalid_token")
        assert_session_ended(client, accounts, second)
        assert session_of(app, first)["revoked_reason"] == "refresh_token_reuse"

    def test_a_token_older_than_the_previous_revokes_the_session_at_once(
        self, app, client, accounts
    ):
        first = accounts.user_with_token()
        second = refresh(client, first).json
        third = refresh(client, second).json
        assert_error(refresh(client, first), 401, "invalid_token")
        assert_session_ended(client, accounts, second, third)

    def test_a_grace_of_zero_turns_the_retry_off(self, make_app, accounts):
        app = make_app(REFRESH_GRACE_SECONDS=0)
        client = app.test_client()
        first = type(accounts)(client, app).user_with_token()
        second = refresh(client, first).json
        assert_error(refresh(client, first), 401, "invalid_token")
        assert_session_ended(client, accounts, second)

    def test_the_session_keeps_claims_never_a_token(self, app, client, accounts):
        """What the retry needs is kept to sign the pair again; nothing stored is usable as
        it is, and no part of a token (its signature) is in the database."""
        first = accounts.user_with_token()
        second = refresh(client, first).json
        stored = repr(session_of(app, first))
        for token in (*pair_of(first), *pair_of(second)):
            assert token.rsplit(".", 1)[1] not in stored


def test_refreshes_racing_with_one_token_all_get_the_same_pair(app, make_app, accounts, backend):
    """Eight refreshes at once with one token, over two app instances on the embedded
    server (as over two workers; two mongomock clients would not share a database, so one
    app there): one rotates, the others are retries, and the session survives."""
    apps_count = 2 if backend == "embedded" else 1
    in_flight = InFlight()
    apps = [in_flight.wrap(app)] + [in_flight.wrap(make_app()) for _ in range(apps_count - 1)]
    first = accounts.user_with_token()
    calls = [partial(refresh, apps[n % apps_count].test_client(), first) for n in range(8)]

    responses = all_at_once(calls)

    assert [r.status_code for r in responses] == [200] * 8, [r.get_json() for r in responses]
    assert len({pair_of(r.json) for r in responses}) == 1
    second = responses[0].json
    client = app.test_client()
    assert client.get("/auth/me", headers=accounts.bearer(second)).status_code == 200
    if backend == "embedded":
        assert in_flight.peak >= 2, "the refreshes never overlapped: this was not a race"
    leave_the_grace_window(app, first)
    assert_error(refresh(client, first), 401, "invalid_token")  # a third use, later: theft
    assert_session_ended(client, accounts, second)
