"""``POST /subscriptions``, ``DELETE /subscriptions/{id}``, ``GET /me/subscriptions``, the
admin's refund, and who may watch a ``subscribers`` video (docs/payments.md#subscriptions)."""

from collections import Counter
from datetime import timedelta

import pytest

from models.common import as_utc, utcnow
from tests.support.concurrency import all_at_once
from tests.support.payments import AUTHENTICATION, DECLINED, VISA
from tests.support.subscriptions import DAYS, Club

embedded_only = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


@pytest.fixture
def club(app, client, accounts):
    return Club(app, client, accounts)


def test_subscribing_charges_the_plan_and_opens_the_creators_subscriber_videos(club):
    video_id = club.video()
    assert not club.may_watch(video_id)
    refusal = club.watch_refusal(video_id)
    assert refusal.code == "subscription_required"
    assert refusal.details["price"] == 700

    before = utcnow()
    response = club.subscribe()

    assert response.status_code == 201, response.json
    subscription = response.json["subscription"]
    assert subscription["status"] == "active"
    assert subscription["creator_id"] == club.creator["user"]["id"]
    assert (subscription["amount"], subscription["currency"]) == (700, "USD")
    assert subscription["cancel_at_period_end"] is False
    assert subscription["payment_id"].startswith("sbpay_")
    assert subscription["created_at"].endswith("Z")
    end = as_utc(club.subscription(subscription["id"])["current_period_end"])
    assert before + timedelta(days=DAYS) <= end <= utcnow() + timedelta(days=DAYS)
    [sale] = club.ledger()
    assert sale["item"] == {
        "type": "subscription",
        "id": club.subscription(subscription["id"])["_id"],
    }
    assert (sale["kind"], sale["gross"], sale["creator_share"], sale["platform_share"]) == (
        "sale",
        700,
        560,
        140,
    )
    assert sale["payment_id"] == subscription["payment_id"]
    assert str(sale["creator_id"]) == club.creator["user"]["id"]
    assert club.may_watch(video_id)
    assert not club.may_watch(club.video(owner=club.accounts.user_with_token("creator")))


def test_the_earnings_report_counts_the_subscription(club):
    club.subscribed()
    report = club.client.get("/me/earnings", headers=club.accounts.bearer(club.creator)).json
    assert report["totals"]["gross"] == 700
    assert [item["type"] for item in report["by_item"]] == ["subscription"]


def test_a_declined_card_is_402_and_the_subscription_failed(club):
    response = club.subscribe(DECLINED)
    assert (response.status_code, response.json["code"]) == (402, "payment_failed")
    assert response.json["error"] == "Your card was declined."
    [failed] = club.db("subscriptions")
    assert failed["status"] == "failed" and "holding" not in failed
    assert failed["failure_reason"] == "Your card was declined."
    assert club.ledger() == []
    assert club.subscribe(VISA).status_code == 201


def test_authentication_required_is_pending_until_the_bank_and_its_webhook(club):
    video_id = club.video()
    response = club.subscribe(AUTHENTICATION)
    assert response.status_code == 201
    subscription = response.json["subscription"]
    assert subscription["status"] == "pending"
    assert subscription["current_period_end"] is None
    assert not club.may_watch(video_id)

    assert club.authenticate(subscription["payment_id"]).status_code == 200
    assert club.deliver() == 1

    settled = club.subscription(subscription["id"])
    assert settled["status"] == "active" and settled["current_period_end"] is not None
    assert len(club.ledger()) == 1
    assert club.may_watch(video_id)


def test_who_can_be_subscribed_to(club, accounts):
    viewer = accounts.user_with_token("viewer")
    planless = accounts.user_with_token("creator")
    cases = [
        (club.subscribe(creator=viewer), 404, "creator_not_found"),
        (club.subscribe(creator="0" * 24), 404, "creator_not_found"),
        (club.subscribe(creator=planless), 409, "no_plan"),
        (club.subscribe(bundle=club.creator), 409, "own_item"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json["code"]) == (status, code)
    assert club.charges() == [] and club.db("subscriptions") == []


@pytest.mark.parametrize(
    "body",
    [{}, {"creator_id": "nope", "payment_method": VISA}, {"creator_id": "0" * 24}],
)
def test_the_body_is_checked(club, body):
    headers = {**club.accounts.bearer(club.buyer), "Idempotency-Key": "k"}
    assert club.client.post("/subscriptions", json=body, headers=headers).status_code == 400


def test_an_unknown_payment_method_is_400_and_leaves_nothing(club):
    response = club.subscribe("pm_card_unknown")
    assert (response.status_code, response.json["code"]) == (400, "invalid_payment_method")
    assert club.charges() == [] and club.db("subscriptions") == []


def test_the_idempotency_key_rules_are_the_purchases(club):
    assert club.subscribe(key=None).json["code"] == "idempotency_key_required"
    assert club.subscribe(key="x" * 256).json["code"] == "invalid_idempotency_key"
    first = club.subscribe(key="sub-1")
    again = club.subscribe(key="sub-1")
    assert first.status_code == again.status_code == 201 and first.json == again.json
    other = club.subscribe(AUTHENTICATION, key="sub-1")
    assert (other.status_code, other.json["code"]) == (422, "idempotency_key_reused")
    assert len(club.charges()) == 1 and len(club.ledger()) == 1


def test_a_second_subscription_to_the_same_creator_is_409(club):
    assert club.subscribe(AUTHENTICATION).status_code == 201
    response = club.subscribe()
    assert (response.status_code, response.json["code"]) == (409, "subscription_pending")
    other = Club(club.app, club.client, club.accounts)
    other.subscribed()
    response = other.subscribe()
    assert (response.status_code, response.json["code"]) == (409, "already_subscribed")


def test_cancelling_keeps_access_until_the_period_ends(club):
    video_id = club.video()
    subscription = club.subscribed()
    response = club.cancel(subscription["id"])
    assert response.status_code == 200
    assert response.json["subscription"]["cancel_at_period_end"] is True
    assert response.json["subscription"]["status"] == "active"
    assert club.cancel(subscription["id"]).json == response.json  # idempotent
    assert club.may_watch(video_id)
    end = as_utc(club.subscription(subscription["id"])["current_period_end"])
    assert club.may_watch_at(video_id, end - timedelta(seconds=1))
    assert not club.may_watch_at(video_id, end)

    assert club.renew() == 1
    ended = club.subscription(subscription["id"])
    assert ended["status"] == "ended" and "holding" not in ended
    assert ended["ended_reason"] == "cancelled"
    assert len(club.charges()) == 1 and len(club.ledger()) == 1
    assert club.subscribe().status_code == 201


def test_cancelling_a_pending_subscription_ends_it_now(club):
    subscription = club.subscribed(AUTHENTICATION)
    response = club.cancel(subscription["id"])
    assert response.status_code == 200
    assert response.json["subscription"]["status"] == "ended"
    assert "holding" not in club.subscription(subscription["id"])
    assert club.authenticate(subscription["payment_id"]).status_code == 200
    club.deliver()
    assert club.subscription(subscription["id"])["status"] == "ended"
    assert club.ledger() == []
    # The bank said yes after the cancel: the money is given back, not kept for nothing.
    [charge] = club.charges()
    assert (charge["_id"], charge["status"]) == (subscription["payment_id"], "refunded")
    club.deliver()  # the refund's own webhook changes nothing more
    assert club.ledger() == [] and club.subscription(subscription["id"])["status"] == "ended"


def test_only_the_subscriber_cancels(club, accounts):
    subscription = club.subscribed()
    for bundle in (accounts.user_with_token("viewer"), club.creator):
        response = club.cancel(subscription["id"], bundle)
        assert (response.status_code, response.json["code"]) == (404, "subscription_not_found")
    assert club.cancel("0" * 24).status_code == 404
    assert club.subscription(subscription["id"])["cancel_at_period_end"] is False


def test_my_subscriptions_are_paged_newest_first(club, accounts):
    made = []
    for _ in range(3):
        creator = accounts.user_with_token("creator")
        club.plan(300, creator)
        made.append(club.subscribed(creator=creator)["id"])
    headers = club.accounts.bearer(club.buyer)
    first = club.client.get("/me/subscriptions?per_page=2", headers=headers).json
    assert [s["id"] for s in first["subscriptions"]] == made[::-1][:2]
    cursor = first["pagination"]["next_cursor"]
    second = club.client.get(f"/me/subscriptions?per_page=2&cursor={cursor}", headers=headers)
    assert [s["id"] for s in second.json["subscriptions"]] == made[:1]
    assert club.client.get("/me/subscriptions?cursor=bad", headers=headers).status_code == 400
    others = club.client.get("/me/subscriptions", headers=club.accounts.bearer(club.creator))
    assert others.json["subscriptions"] == []


def test_a_refund_ends_access_now_and_reverses_the_period(club):
    video_id = club.video()
    subscription = club.subscribed()
    assert club.refund_subscription(subscription["id"], club.buyer).status_code == 403

    response = club.refund_subscription(subscription["id"])

    assert response.status_code == 200, response.json
    assert response.json["subscription"]["status"] == "ended"
    assert response.json["subscription"]["ended_reason"] == "refunded"
    assert not club.may_watch(video_id)
    entries = {entry["kind"]: entry for entry in club.ledger()}
    assert (entries["refund"]["gross"], entries["refund"]["creator_share"]) == (-700, -560)
    assert entries["refund"]["payment_id"] == subscription["payment_id"]
    club.deliver()  # the sandbox's payment.refunded event adds nothing
    assert len(club.ledger()) == 2
    again = club.refund_subscription(subscription["id"])
    assert (again.status_code, again.json["code"]) == (409, "not_refundable")
    assert club.refund_subscription("0" * 24).status_code == 404
    assert club.renew() == 0


def test_purchases_show_their_payment_id(club):
    response = club.buy_video(club.video(access="paid", price=500), AUTHENTICATION)
    payment_id = response.json["purchase"]["payment_id"]
    assert payment_id.startswith("sbpay_")
    assert club.authenticate(payment_id).status_code == 200


@embedded_only
def test_twenty_racing_subscribes_with_different_keys_make_one(make_app, club):
    apps = [club.app, make_app()]
    clients = [app.test_client() for app in apps for _ in range(10)]
    calls = [(lambda n=n: club.subscribe(key=f"key-{n}", client=clients[n])) for n in range(20)]
    responses = all_at_once(calls)
    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 409: 19}, statuses
    codes = {r.json["code"] for r in responses if r.status_code == 409}
    assert codes <= {"subscription_pending", "already_subscribed"}
    assert len(club.charges()) == 1
    assert len(club.db("subscriptions")) == 1 and len(club.ledger()) == 1


def test_a_late_failure_of_a_settled_periods_payment_changes_nothing(club):
    """Only the payment being charged now may end a subscription: a ``payment.failed``
    about the first period's payment, after it was settled, leaves the subscription active."""
    import json

    from services.payments import signing

    subscription = club.subscribe().json["subscription"]
    body = {
        "id": "evt_late_failure",
        "type": "payment.failed",
        "data": {"object": {"id": subscription["payment_id"], "failure_reason": "late"}},
    }
    payload = json.dumps(body).encode()
    header = signing.header(club.app.config["SANDBOX_WEBHOOK_SECRET"], payload)
    response = club.client.post(
        "/payments/webhook", data=payload, headers={"Stripe-Signature": header}
    )
    assert response.status_code == 200
    assert club.subscription(subscription["id"])["status"] == "active"
    assert club.may_watch(club.video())
