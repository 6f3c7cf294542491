"""``Idempotency-Key`` on ``POST /purchases`` (services/idempotency.py, docs/payments.md)."""

from collections import Counter
from datetime import timedelta

import pytest
from bson import ObjectId

from models import idempotency as records
from models.common import object_id, utcnow
from services import idempotency
from tests.support.concurrency import all_at_once
from tests.support.live_server import HttpClient, LiveServer
from tests.support.payments import AUTHENTICATION, DECLINED, VISA, Shop

embedded_only = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


@pytest.fixture
def shop(app, client, accounts):
    return Shop(app, client, accounts)


@pytest.mark.parametrize("key", [None, "", "x" * 256, "café", "tab\there"])
def test_the_key_is_required_and_printable_ascii(shop, key):
    response = shop.buy_video(shop.video(), key=key)
    assert response.status_code == 400
    expected = "idempotency_key_required" if not key else "invalid_idempotency_key"
    assert response.json["code"] == expected
    assert shop.charges() == [] and shop.db("purchases") == []


def test_the_same_key_and_body_return_the_same_answer_and_charge_once(shop):
    video_id = shop.video()
    first = shop.buy_video(video_id, key="order-1")
    second = shop.buy_video(video_id, key="order-1")
    assert first.status_code == second.status_code == 201
    assert first.json == second.json
    assert len(shop.charges()) == 1 and len(shop.db("purchases")) == 1
    assert len(shop.ledger()) == 1


def test_a_declined_answer_is_replayed_too(shop):
    video_id = shop.video()
    first = shop.buy_video(video_id, DECLINED, key="order-2")
    second = shop.buy_video(video_id, DECLINED, key="order-2")
    assert first.status_code == second.status_code == 402
    assert first.json == second.json
    assert len(shop.charges()) == 1


def test_the_same_key_with_another_body_is_422(shop):
    first = shop.buy_video(shop.video(), key="order-3")
    other = shop.buy_video(shop.video(), key="order-3")
    assert first.status_code == 201
    assert (other.status_code, other.json["code"]) == (422, "idempotency_key_reused")
    assert len(shop.charges()) == 1


def test_keys_are_per_user(shop, accounts):
    video_id = shop.video()
    other = accounts.user_with_token("viewer")
    assert shop.buy_video(video_id, key="shared").status_code == 201
    response = shop.buy_video(video_id, key="shared", bundle=other)
    assert response.status_code == 201
    assert response.json["purchase"]["id"] != shop.db("purchases")[0]["_id"]
    assert len(shop.charges()) == 2


def _stuck_record(shop, key, body, lease_until):
    path = "/purchases"
    import json

    fingerprint = idempotency.fingerprint("POST", path, json.dumps(body).encode())
    with shop.app.app_context():
        user_id = object_id(shop.buyer["user"]["id"])
        now = utcnow()
        records.start(user_id, key, fingerprint, now, lease_until, now + timedelta(hours=1))


def test_a_request_still_in_progress_makes_a_retry_wait_then_409(shop, monkeypatch):
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.3)
    video_id = shop.video()
    body = {"video_id": video_id, "payment_method": VISA}
    _stuck_record(shop, "busy", body, utcnow() + timedelta(minutes=1))
    response = shop.buy(body, key="busy")
    assert (response.status_code, response.json["code"]) == (409, "idempotency_in_progress")
    assert shop.charges() == []


def test_a_request_that_died_mid_way_does_not_block_its_key(shop):
    video_id = shop.video()
    body = {"video_id": video_id, "payment_method": VISA}
    _stuck_record(shop, "crashed", body, utcnow() - timedelta(seconds=1))
    response = shop.buy(body, key="crashed")
    assert response.status_code == 201
    assert shop.buy(body, key="crashed").json == response.json


def test_a_pending_answer_is_replayed_as_pending(shop):
    video_id = shop.video()
    first = shop.buy_video(video_id, AUTHENTICATION, key="3ds")
    assert shop.buy_video(video_id, AUTHENTICATION, key="3ds").json == first.json
    assert first.json["purchase"]["status"] == "pending"


@embedded_only
def test_twenty_retries_with_one_key_on_two_workers_charge_once(make_app, shop):
    apps = [shop.app, make_app()]
    servers = [LiveServer(app).start() for app in apps]
    try:
        clients = [HttpClient(server.base_url) for server in servers]
        video_id = shop.video()
        headers = {**shop.accounts.bearer(shop.buyer), "Idempotency-Key": "one-order"}
        body = {"video_id": video_id, "payment_method": VISA}
        calls = [
            (lambda n=n: clients[n % 2].request("POST", "/purchases", body, headers))
            for n in range(20)
        ]
        replies = all_at_once(calls)
    finally:
        for server in servers:
            server.stop()
    statuses = Counter(reply.status for reply in replies)
    assert statuses == {201: 20}, [(r.status, r.body[:200]) for r in replies]
    assert len({reply.json()["purchase"]["id"] for reply in replies}) == 1
    assert len(shop.charges()) == 1
    assert len(shop.db("purchases")) == 1 and len(shop.ledger()) == 1


@embedded_only
def test_twenty_purchases_of_one_item_with_different_keys_make_one(make_app, shop):
    apps = [shop.app, make_app()]
    clients = [app.test_client() for app in apps for _ in range(10)]
    video_id = shop.video()
    calls = [
        (lambda n=n: shop.buy_video(video_id, key=f"key-{n}", client=clients[n])) for n in range(20)
    ]
    responses = all_at_once(calls)
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 409: 19}, statuses
    codes = {r.json["code"] for r in responses if r.status_code == 409}
    assert codes <= {"purchase_pending", "already_owned"}
    assert len(shop.charges()) == 1
    assert len(shop.db("purchases")) == 1 and len(shop.ledger()) == 1
    assert isinstance(shop.db("purchases")[0]["_id"], ObjectId)
