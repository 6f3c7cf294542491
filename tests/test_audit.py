"""The audit log: an entry for every mutating call (successful or refused), written off the
request's thread with retries and loud losses, queried by admins with filters and cursor pages,
kept ``AUDIT_RETENTION_DAYS`` by a TTL index."""

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId, json_util
from pymongo.errors import AutoReconnect

from config import ConfigError, load_config
from models import audit as records
from models import db
from models import session as sessions
from services import audit, ip_hash
from tests.support.accounts import PASSWORD

ADMIN = ("admin@test.example", "admin-test-password")


def entries(app):
    app.extensions["audit_log"].flush(10)
    with app.app_context():
        return list(db.get_db().audit_log.find().sort([("at", 1), ("_id", 1)]))


def admin_headers(accounts):
    return accounts.bearer(accounts.login(*ADMIN))


def test_every_mutating_call_is_recorded_with_its_outcome(app, client, accounts, library, media):
    video = library.ready_video(media["h264"])
    owner = accounts.bearer(library.owner)
    viewer = accounts.user_with_token()
    edited = client.patch(f"/video/{video['id']}", json={"title": "New"}, headers=owner)
    assert edited.status_code == 200
    refused = client.patch(
        f"/video/{video['id']}", json={"title": "Mine"}, headers=accounts.bearer(viewer)
    )
    assert refused.status_code == 403
    assert client.delete("/me/sessions").status_code == 401
    assert (
        client.patch(f"/video/{ObjectId()}", json={"title": "x"}, headers=owner).status_code == 404
    )
    assert (
        client.patch(f"/video/{video['id']}", json={"title": ""}, headers=owner).status_code == 400
    )
    assert client.get(f"/video/{video['id']}", headers=owner).status_code == 200  # not recorded

    found = entries(app)
    by_action = [(e["action"], e["status"]) for e in found]
    assert by_action[-5:] == [
        ("video.edit", 200),
        ("video.edit", 403),
        ("me.end_other_sessions", 401),
        ("video.edit", 404),
        ("video.edit", 400),
    ]
    assert "video.details" not in [action for action, _ in by_action]  # a GET
    ok, forbidden, anonymous = found[-5], found[-4], found[-3]
    assert ok["actor_id"] == ObjectId(library.owner["user"]["id"])
    assert ok["actor_role"] == "creator" and ok["method"] == "PATCH"
    assert ok["target"] == {"type": "video", "id": video["id"]}
    assert ok["request_id"] == edited.headers["X-Request-ID"]
    assert len(ok["ip_hash"]) == 32 and ok["ip_hash"] != "127.0.0.1"
    assert forbidden["actor_id"] == ObjectId(viewer["user"]["id"])
    assert forbidden["actor_role"] == "viewer"
    assert anonymous["actor_id"] is None and anonymous["actor_role"] is None
    assert set(ok) == {
        "_id", "at", "actor_id", "actor_role", "action", "method", "target", "status",
        "request_id", "ip_hash",
    }  # fmt: skip


def test_login_signup_and_refresh_name_their_user_and_nothing_secret_is_kept(app, client, accounts):
    user = accounts.signup(email="audited@example.com")
    bundle = accounts.login("audited@example.com")
    refreshed = client.post("/auth/refresh", json={"refresh_token": bundle["refresh_token"]})
    assert refreshed.status_code == 200
    wrong = client.post(
        "/auth/login", json={"email": "audited@example.com", "password": "nope-1234"}
    )
    assert wrong.status_code == 401
    found = entries(app)
    last = {(e["action"], e["status"]): e for e in found}
    for action in (("auth.signup", 201), ("auth.login", 200), ("auth.refresh", 200)):
        assert last[action]["actor_id"] == ObjectId(user["id"]), action
    assert last[("auth.login", 401)]["actor_id"] is None
    text = json_util.dumps(found)
    for secret in (PASSWORD, "nope-1234", bundle["token"], bundle["refresh_token"],
                   refreshed.json["refresh_token"], "audited@example.com"):  # fmt: skip
        assert secret not in text


def test_the_unauthenticated_webhook_is_recorded_without_an_actor(app, client):
    response = client.post("/payments/webhook", data=b"{}", content_type="application/json")
    assert response.status_code >= 400
    (entry,) = [e for e in entries(app) if e["action"] == "payments.webhook"]
    assert entry["actor_id"] is None and entry["status"] == response.status_code


def test_rate_limited_calls_are_not_recorded(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute")
    client = app.test_client()
    statuses = [
        client.post(
            "/auth/login", json={"email": "x@example.com", "password": "whatever1"}
        ).status_code
        for _ in range(4)
    ]
    assert statuses == [401, 401, 429, 429]
    assert [e["status"] for e in entries(app) if e["action"] == "auth.login"] == [401, 401]


class TestTheWriter:
    def test_no_request_waits_on_the_database_for_its_entry(
        self, app, client, accounts, monkeypatch
    ):
        """The cost per request, counted: how many audit writes ran on a request's thread."""
        threads = []
        real = records.insert_many

        def counted(batch):
            threads.append(threading.current_thread())
            real(batch)

        monkeypatch.setattr(records, "insert_many", counted)
        for _ in range(5):
            accounts.signup()
        assert len(entries(app)) >= 5
        assert threads and threading.main_thread() not in threads
        assert all(thread.name == "audit-writer" for thread in threads)

    def test_a_failed_write_is_retried_until_it_lands(self, app, client, accounts, monkeypatch):
        monkeypatch.setattr(audit, "RETRY_FIRST", 0.01)
        failures = iter([AutoReconnect("down"), AutoReconnect("still down")])
        real = records.insert_many

        def flaky(batch):
            failure = next(failures, None)
            if failure is not None:
                real(batch[:1])  # a partial write before the failure: never doubled
                raise failure
            real(batch)

        monkeypatch.setattr(records, "insert_many", flaky)
        accounts.signup()
        found = entries(app)
        assert [e["action"] for e in found] == ["auth.signup"]
        assert app.extensions["audit_log"].failed_writes == 2

    def test_an_entry_that_cannot_be_queued_is_logged_with_its_content(self, app, caplog):
        writer = audit.AuditWriter(app, limit=0)
        with caplog.at_level(logging.ERROR):
            writer.submit({"action": "video.edit", "status": 200})
        assert writer.dropped == 1
        (line,) = [r for r in caplog.records if "dropped" in r.getMessage()]
        assert line.audit == {"action": "video.edit", "status": 200}

    def test_a_broken_hook_never_fails_the_request(self, app, client, monkeypatch, caplog):
        def broken(entry):
            raise RuntimeError("queue gone")

        monkeypatch.setattr(audit, "submit", broken)
        with caplog.at_level(logging.ERROR):
            response = client.post("/auth/login", json={"email": "a@example.com", "password": "x"})
        assert response.status_code in (400, 401)
        assert any("audit entry not recorded" in r.getMessage() for r in caplog.records)
        assert app.extensions["audit_log"].dropped == 1

    def test_what_shutdown_cannot_write_is_logged(self, app, monkeypatch, caplog):
        monkeypatch.setattr(audit, "STOP_SECONDS", 0.2)
        monkeypatch.setattr(records, "insert_many", lambda batch: (_ for _ in ()).throw(
            AutoReconnect("down")))  # fmt: skip
        writer = audit.AuditWriter(app)
        writer.submit({"action": "video.delete", "status": 200})
        with caplog.at_level(logging.ERROR):
            assert writer.stop() is False
        assert [r.audit for r in caplog.records if "lost at shutdown" in r.getMessage()] == [
            {"action": "video.delete", "status": 200}
        ]
        with caplog.at_level(logging.ERROR):
            writer.submit({"action": "video.edit", "status": 403})  # after the stop
        assert caplog.records[-1].audit == {"action": "video.edit", "status": 403}
        assert "stopped" in caplog.records[-1].getMessage()


def make_entries(app, count, **fields):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    made = []
    for index in range(count):
        made.append({
            "_id": ObjectId(), "at": start + timedelta(hours=index), "actor_id": None,
            "actor_role": None, "action": "video.edit", "method": "PATCH", "target": None,
            "status": 200, "request_id": None, "ip_hash": None, **fields,
        })  # fmt: skip
    with app.app_context():
        records.insert_many(made)
    return made


class TestTheQuery:
    def test_newest_first_in_cursor_pages(self, app, client, accounts):
        made = make_entries(app, 7)
        headers = admin_headers(accounts)
        seen, cursor = [], None
        while True:
            query = "/admin/audit?per_page=3&to=2026-01-01" + (
                f"&cursor={cursor}" if cursor else ""
            )
            body = client.get(query, headers=headers).json
            seen += [entry["id"] for entry in body["entries"]]
            cursor = body["pagination"]["next_cursor"]
            if not cursor:
                break
        assert seen == [str(e["_id"]) for e in reversed(made)]

    def test_each_filter(self, app, client, accounts):
        actor, video = ObjectId(), ObjectId()
        make_entries(app, 3)
        mine = make_entries(app, 2, actor_id=actor, action="video.delete",
                            target={"type": "video", "id": str(video)})  # fmt: skip
        headers = admin_headers(accounts)
        wanted = [str(e["_id"]) for e in reversed(mine)]
        for query in (
            f"actor={actor}",
            "action=video.delete",
            f"target=video:{video}",
            f"target_type=video&target_id={video}",
            f"actor={actor}&action=video.delete&target=video:{video}",
        ):
            body = client.get(f"/admin/audit?{query}&to=2026-01-02", headers=headers).json
            assert [e["id"] for e in body["entries"]] == wanted, query
        span = client.get(
            "/admin/audit?from=2026-01-01T01:00:00Z&to=2026-01-01T02:00:00", headers=headers
        ).json["entries"]
        assert [e["at"] for e in span] == ["2026-01-01T01:00:00.000Z"] * 2

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("actor=nobody", "actor"),
            ("actor[$ne]=1", "actor[$ne]"),
            ("action=video edit", "action"),
            ("target=video", "target"),
            ("target_type=video", "target_id"),
            ("target_id=5f0000000000000000000003", "target_type"),
            ("target=video:5f0000000000000000000004&target_type=video", "target"),
            ("from=yesterday", "from"),
            ("to=2026-13-01", "to"),
            ("from=2026-02-01&to=2026-01-01", "from"),
            ("cursor=forged", "cursor"),
        ],
    )
    def test_malformed_filters_are_400_naming_the_field(self, client, accounts, query, field):
        response = client.get(f"/admin/audit?{query}", headers=admin_headers(accounts))
        assert response.status_code == 400, response.json
        assert field in response.json["details"], response.json

    def test_a_cursor_of_other_filters_is_refused(self, app, client, accounts):
        make_entries(app, 4)
        headers = admin_headers(accounts)
        cursor = client.get("/admin/audit?per_page=1", headers=headers).json["pagination"][
            "next_cursor"
        ]
        response = client.get(f"/admin/audit?action=auth.login&cursor={cursor}", headers=headers)
        assert response.status_code == 400

    def test_admins_only(self, client, accounts):
        viewer = accounts.bearer(accounts.user_with_token("creator"))
        assert client.get("/admin/audit", headers=viewer).status_code == 403
        assert client.get("/admin/audit").status_code == 401


def ttl_seconds(app):
    with app.app_context():
        return db.get_db().audit_log.index_information()[records.TTL_INDEX]["expireAfterSeconds"]


def test_retention_follows_the_setting(make_app):
    assert ttl_seconds(make_app()) == 365 * 86400
    assert ttl_seconds(make_app(AUDIT_RETENTION_DAYS=30)) == 30 * 86400


def test_retention_and_the_address_key_are_checked_at_start_up(make_app):
    with pytest.raises(ConfigError, match="AUDIT_RETENTION_DAYS"):
        load_config({"APP_ENV": "testing", "AUDIT_RETENTION_DAYS": 0})
    production = {
        "APP_ENV": "production", "SECRET_KEY": "s" * 40, "JWT_SECRET_KEY": "j" * 40,
        "PLAYBACK_SECRET_KEY": "p" * 40, "PAYMENT_PROVIDER": None,
    }  # fmt: skip
    with pytest.raises(ConfigError, match="IP_HASH_KEY"):
        load_config({**production, "IP_HASH_KEY": "short"})
    assert load_config({**production, "IP_HASH_KEY": "i" * 40})["IP_HASH_KEY"] == "i" * 40
    # Unset, the key comes from SECRET_KEY: another SECRET_KEY, other hashes; never the bare HMAC
    # of a known key.
    hashes = []
    for overrides in ({}, {"SECRET_KEY": "t" * 40}, {"IP_HASH_KEY": "i" * 40}):
        app = make_app(**overrides)
        with app.test_request_context():
            hashes.append(ip_hash.of("192.0.2.1"))
    assert len(set(hashes)) == 3
    assert all(len(value) == 32 for value in hashes)


def test_sessions_from_before_lose_their_raw_address_once(app):
    with app.app_context():
        database = db.get_db()
        database.sessions.insert_one({"_id": ObjectId(), "ip": "198.51.100.9", "user_id": None})
        sessions.drop_raw_addresses(database)  # the marker from start-up: nothing done
        assert database.sessions.count_documents({"ip": "198.51.100.9"}) == 1
        database.migrations.delete_one({"_id": sessions.RAW_ADDRESS_MIGRATION})
        sessions.drop_raw_addresses(database)
        assert database.sessions.count_documents({"ip": {"$exists": True}}) == 0
        assert database.migrations.find_one({"_id": sessions.RAW_ADDRESS_MIGRATION})
