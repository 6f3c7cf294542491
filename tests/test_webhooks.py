"""``POST /payments/webhook`` and the sandbox's signed events (docs/payments.md#webhooks)."""

import json
import time
from datetime import timedelta

import pytest

from models.common import utcnow
from services.payments import signing
from services.payments.provider import InvalidSignature
from services.payments.settlement import PurchaseSettlement
from tests.support.concurrency import all_at_once
from tests.support.live_server import HttpClient, LiveServer
from tests.support.payments import AUTHENTICATION, VISA, Shop

SECRET = "whsec-test"


@pytest.fixture
def shop(app, client, accounts):
    return Shop(app, client, accounts)


def pending_purchase(shop):
    """A pending purchase (authentication required), authenticated at the bank: its
    ``payment.succeeded`` event queued, not delivered."""
    response = shop.buy_video(shop.video(), AUTHENTICATION)
    purchase = shop.purchase(response.json["purchase"]["id"])
    shop.client.post(f"/payments/sandbox/{purchase['payment_id']}/authenticate")
    return purchase


def queued_event(shop):
    [event] = shop.db("sandbox_webhooks")
    return event


def post(shop, payload, header):
    headers = {"Stripe-Signature": header} if header is not None else {}
    return shop.client.post("/payments/webhook", data=payload, headers=headers)


def secret(shop):
    return shop.app.config["SANDBOX_WEBHOOK_SECRET"]


def test_signatures_follow_stripes_scheme():
    payload = b'{"id":"evt_1"}'
    header = signing.header(SECRET, payload, timestamp=1_700_000_000)
    t, v1 = header.split(",")
    assert t == "t=1700000000" and len(v1) == len("v1=") + 64
    signing.verify(SECRET, payload, header, 300, now=1_700_000_100)
    for bad in (
        lambda: signing.verify(SECRET, payload + b" ", header, 300, now=1_700_000_000),
        lambda: signing.verify("other", payload, header, 300, now=1_700_000_000),
        lambda: signing.verify(SECRET, payload, header, 300, now=1_700_000_301),
        lambda: signing.verify(SECRET, payload, "v1=abc", 300),
        lambda: signing.verify(SECRET, payload, None, 300),
    ):
        with pytest.raises(InvalidSignature):
            bad()


@pytest.mark.parametrize("forgery", ["unsigned", "wrong secret", "tampered", "stale"])
def test_an_event_not_signed_now_by_the_sandbox_is_400_and_changes_nothing(shop, forgery):
    purchase = pending_purchase(shop)
    payload = queued_event(shop)["payload"].encode()
    header = {
        "unsigned": None,
        "wrong secret": signing.header("not-the-secret", payload),
        "tampered": signing.header(secret(shop), payload),
        "stale": signing.header(secret(shop), payload, time.time() - 301),
    }[forgery]
    if forgery == "tampered":
        payload = payload.replace(b"payment.succeeded", b"payment.refunded")
    response = post(shop, payload, header)
    assert (response.status_code, response.json["code"]) == (400, "invalid_signature")
    assert shop.purchase(purchase["_id"])["status"] == "pending"
    assert shop.ledger() == [] and shop.db("webhook_events") == []


def test_a_replayed_event_changes_nothing(shop):
    purchase = pending_purchase(shop)
    payload = queued_event(shop)["payload"].encode()
    assert shop.deliver() == 1
    assert shop.purchase(purchase["_id"])["status"] == "succeeded"

    again = post(shop, payload, signing.header(secret(shop), payload))

    assert again.status_code == 200
    assert again.json["outcome"] == "duplicate"
    assert len(shop.ledger()) == 1 and len(shop.db("webhook_events")) == 1


def test_an_event_for_an_unknown_payment_is_acknowledged_and_ignored(shop):
    body = {"id": "evt_x", "type": "payment.succeeded", "data": {"object": {"id": "sbpay_x"}}}
    payload = json.dumps(body).encode()
    response = post(shop, payload, signing.header(secret(shop), payload))
    assert response.status_code == 200 and response.json["outcome"] == "ignored"
    assert shop.ledger() == [] and shop.db("webhook_events") == []


def test_every_settlement_sends_one_event_with_its_own_id(shop):
    shop.buy_video(shop.video())
    shop.buy_video(shop.video())
    events = shop.db("sandbox_webhooks")
    assert len(events) == 2 and len({event["_id"] for event in events}) == 2
    assert {event["type"] for event in events} == {"payment.succeeded"}
    assert shop.deliver() == 2
    assert shop.db("sandbox_webhooks") == []


def test_an_event_is_retried_with_backoff_until_2xx_and_keeps_its_id(shop):
    purchase = pending_purchase(shop)
    seen, answers = [], [500, 0, 200]  # 0: the connection fails

    def flaky(url, body, headers):
        seen.append(json.loads(body)["id"])
        answer = answers.pop(0)
        if answer == 0:
            raise ConnectionRefusedError("down")
        if answer == 200:
            return shop.client.post("/payments/webhook", data=body, headers=headers).status_code
        return answer

    shop.deliverer.transport = flaky
    assert shop.deliver() == 0
    assert shop.deliver() == 0  # not due yet: the backoff holds it back
    shop.deliverer.clock = lambda: utcnow() + timedelta(seconds=2)
    assert shop.deliver() == 0
    shop.deliverer.clock = lambda: utcnow() + timedelta(seconds=10)
    assert shop.deliver() == 1
    assert len(seen) == 3 and len(set(seen)) == 1
    assert shop.purchase(purchase["_id"])["status"] == "succeeded"


def test_webhooks_reach_the_api_over_a_real_socket(shop, app):
    from services.payments.webhook_delivery import http_post

    with LiveServer(app) as server:
        http = HttpClient(server.base_url)
        headers = {**shop.accounts.bearer(shop.buyer), "Idempotency-Key": "live"}
        body = {"video_id": shop.video(), "payment_method": AUTHENTICATION}
        reply = http.request("POST", "/purchases", body, headers)
        assert reply.status == 201, reply.body
        purchase = shop.purchase(reply.json()["purchase"]["id"])
        http.request("POST", f"/payments/sandbox/{purchase['payment_id']}/authenticate")
        assert queued_event(shop)["url"] == server.url("/payments/webhook")
        shop.deliverer.transport = http_post
        assert shop.deliver() == 1
    assert shop.purchase(purchase["_id"])["status"] == "succeeded"


def test_two_settlements_of_one_payment_at_once_write_one_entry(shop):
    purchase = pending_purchase(shop)

    def settle():
        with shop.app.app_context():
            return PurchaseSettlement.succeeded(purchase["_id"], purchase["payment_id"])

    results = all_at_once([settle] * 10)
    assert results.count(True) == 1
    assert len(shop.ledger()) == 1
    assert shop.purchase(purchase["_id"])["status"] == "succeeded"


def test_a_synchronous_success_and_its_webhook_settle_once(shop):
    response = shop.buy_video(shop.video(), VISA)
    assert response.json["purchase"]["status"] == "succeeded"
    assert shop.deliver() == 1
    assert len(shop.ledger()) == 1
    [event] = shop.db("webhook_events")
    assert event["type"] == "payment.succeeded"


@pytest.mark.parametrize(
    "field, value",
    [("payment", {"$ne": None}), ("id", ["evt_1"]), ("type", 7), ("reason", {"$gt": ""})],
)
def test_a_signed_event_with_values_that_are_not_strings_is_400(shop, field, value):
    """Ids become query values: only strings, even in a body the secret signed."""
    body = {"id": "evt_typed", "type": "payment.failed", "data": {"object": {"id": "sbpay_1"}}}
    if field == "payment":
        body["data"]["object"]["id"] = value
    elif field == "reason":
        body["data"]["object"]["failure_reason"] = value
    else:
        body[field] = value
    payload = json.dumps(body).encode()
    response = post(shop, payload, signing.header(secret(shop), payload))
    assert response.status_code == 400 and response.json["code"] == "invalid_signature"
    assert shop.db("webhook_events") == []
