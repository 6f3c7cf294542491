"""No raw IP address is stored anywhere: after a scenario that goes through every feature from
one distinctive forwarded address, no document of any collection holds it (nor any log line).

Behind one trusted proxy (``TRUSTED_PROXY_COUNT=1``) the client's address is the one in
``X-Forwarded-For``: 203.0.113.77. The sessions, the audit log and the rate limiter's counters
(in MongoDB on the embedded backend) hold its keyed hash instead (checked, so the scenario is
known to have carried the address in).
"""

import io
import logging

import bson
import pytest
from bson import json_util

from models import db
from services import ip_hash
from tests.support.accounts import PASSWORD, Accounts, Library
from tests.support.apps import release_rate_limit_storage
from tests.support.mailed import MailWorld, mail_app
from tests.support.payments import VISA, Shop
from tests.support.uploads import upload, wait_until_processed
from web.logs import JsonFormatter

ADDRESS = "203.0.113.77"


@pytest.fixture
def world(make_app, smtp_server, database_uri, backend):
    storage = database_uri if backend == "embedded" else "memory://"
    server = smtp_server("plain")
    app = mail_app(
        make_app,
        server,
        TRUSTED_PROXY_COUNT=1,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=storage,
        RATELIMIT_REFRESH="4 per minute",
    )
    world = MailWorld(app, server)
    world.client.environ_base.update(
        {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": f"198.51.100.1, {ADDRESS}"}
    )
    yield world
    release_rate_limit_storage()


@pytest.fixture
def log_text():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream.getvalue
    root.removeHandler(handler)
    root.setLevel(old_level)


def every_feature(world, media):
    app, client = world.app, world.client
    accounts = Accounts(client, app)
    library = Library(app, client, accounts)
    owner = accounts.bearer(library.owner)
    viewer = accounts.user_with_token()
    headers = accounts.bearer(viewer)
    # Uploads, processing, playback.
    uploaded = upload(client, owner, media["h264"], title="Uploaded")
    assert uploaded.status_code in (201, 202), uploaded.json
    wait_until_processed(client, owner, uploaded.json["video"]["id"])
    video = library.ready_video(media["h264"], title="Stored")
    token = library.playback_token(video["id"], viewer)
    assert (
        client.get(f"/video/{video['id']}/stream?token={token}", headers=headers).status_code == 200
    )
    ranged = client.get(f"/video/{video['id']}/media?token={token}", headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206
    assert client.get(f"/video/{video['id']}/media?token=junk").status_code == 401
    assert (
        client.patch(f"/video/{video['id']}", json={"title": "Edited"}, headers=owner).status_code
        == 200
    )
    # Engagement: reactions, progress reports, the lists and the analytics they feed.
    url = f"/video/{video['id']}"
    for value in ("like", "dislike"):
        reacted = client.put(f"{url}/reaction", json={"value": value}, headers=headers)
        assert reacted.status_code == 200
    assert client.delete(f"{url}/reaction", headers=headers).status_code == 200
    for position in (0.5, 1.5):
        reported = client.put(
            f"{url}/progress", json={"position_seconds": position}, headers=headers
        )
        assert reported.status_code == 204
    for path in ("/me/continue-watching", "/me/history"):
        assert client.get(path, headers=headers).status_code == 200
    assert client.get(f"{url}/analytics", headers=owner).status_code == 200
    assert client.get("/analytics/creator", headers=owner).status_code == 200
    # Purchases, settled by the sandbox's webhook (delivered through this client).
    shop = Shop(app, client, accounts)
    assert shop.buy_video(shop.video(), VISA).status_code in (200, 201, 202)
    shop.deliver()
    # Sessions: refresh, the devices, the profile, the export, logout.
    bundle = accounts.login(viewer["user"]["email"])
    assert (
        client.post("/auth/refresh", json={"refresh_token": bundle["refresh_token"]}).status_code
        == 200
    )
    assert client.get("/me/sessions", headers=headers).status_code == 200
    assert client.patch("/me", json={"name": "Renamed"}, headers=headers).status_code == 200
    assert client.get("/me/export", headers=headers).status_code == 200
    # Password reset through the mailed link.
    user = world.signup("reset@example.com")
    world.deliver()
    assert client.post("/auth/password-reset", json={"email": user["email"]}).status_code == 202
    reset = world.last_token("reset@example.com", "reset-password")
    confirmed = client.post(
        "/auth/password-reset/confirm", json={"token": reset, "new_password": "a-new-password-1"}
    )
    assert confirmed.status_code == 200
    # Refusals, rate-limited calls, the admin's audit query.
    assert client.delete("/me/sessions").status_code == 401
    statuses = {
        client.post("/auth/refresh", json={"refresh_token": "x"}).status_code for _ in range(6)
    }
    assert 429 in statuses
    admin = accounts.bearer(accounts.login("admin@test.example", "admin-test-password"))
    assert client.get("/admin/audit", headers=admin).status_code == 200
    assert client.get("/analytics/admin", headers=admin).status_code == 200
    assert client.post("/auth/logout", headers=headers).status_code == 200
    assert (
        client.post(
            "/auth/login", json={"email": "reset@example.com", "password": PASSWORD}
        ).status_code
        == 401
    )


def test_no_collection_holds_the_raw_address(world, media, log_text, backend):
    every_feature(world, media)
    app = world.app
    assert app.extensions["audit_log"].flush(30)
    with app.app_context():
        database = db.get_db()
        hashed = ip_hash.of(ADDRESS)
        holding = {}
        for name in database.list_collection_names():
            for document in database[name].find():
                if ADDRESS in json_util.dumps(document) or ADDRESS.encode() in bson.encode(
                    document
                ):
                    holding.setdefault(name, []).append(document["_id"])
        assert holding == {}
        # The address did come in: its keyed hash is where the address would have been.
        assert database.sessions.count_documents({"ip_hash": hashed}) >= 3
        assert database.audit_log.count_documents({"ip_hash": hashed}) >= 20
        if backend == "embedded":  # the limiter's keys name the client by its hash
            limits = json_util.dumps(
                [*database.rate_limit_counters.find(), *database.rate_limit_windows.find()]
            )
            assert f"ip:{hashed}/auth.refresh" in limits
    assert ADDRESS not in log_text()
    assert hashed in log_text()
