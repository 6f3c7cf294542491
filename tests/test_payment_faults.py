"""What is not lost when the database or the provider goes away mid-purchase: the
reconciliation sweep (services/payments/jobs.py) settles it, and the buyer is charged once."""

from datetime import timedelta

import pytest
from bson import ObjectId
from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError

from models import ledger
from models import purchase as purchases
from models.common import utcnow
from services.payments.provider import ProviderUnavailable
from services.payments.sandbox import SandboxProvider
from tests.support.payments import AUTHENTICATION, Shop

NOW = timedelta(0)


@pytest.fixture
def shop(app, client, accounts):
    return Shop(app, client, accounts)


def fail_once(monkeypatch, module, name, error):
    real = getattr(module, name)
    calls = []

    def flaky(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, flaky)
    return calls


def reconcile(shop, older_than=NOW):
    return shop.app.extensions["payment_jobs"].reconcile(older_than)


@pytest.mark.parametrize("error", [AutoReconnect("gone"), ServerSelectionTimeoutError("gone")])
def test_the_database_gone_between_the_charge_and_the_ledger(shop, monkeypatch, error):
    video_id = shop.video()
    fail_once(monkeypatch, ledger, "append", error)

    response = shop.buy_video(video_id, key="order")

    assert (response.status_code, response.json["code"]) == (503, "database_unavailable")
    [purchase] = shop.db("purchases")
    assert purchase["status"] == "pending" and purchase["payment_id"]
    assert shop.ledger() == [] and len(shop.charges()) == 1
    assert reconcile(shop, older_than=timedelta(minutes=5)) == 0  # not stale yet

    assert reconcile(shop) == 1

    assert shop.purchase(purchase["_id"])["status"] == "succeeded"
    assert [entry["kind"] for entry in shop.ledger()] == ["sale"]
    assert len(shop.charges()) == 1
    assert reconcile(shop) == 0 and len(shop.ledger()) == 1
    assert shop.may_watch(video_id)
    retry = shop.buy_video(video_id, key="order")  # the client's retry: the same purchase
    assert retry.status_code == 201 and retry.json["purchase"]["id"] == str(purchase["_id"])
    assert len(shop.charges()) == 1 and len(shop.ledger()) == 1


def test_the_database_gone_before_the_payment_id_was_kept(shop, monkeypatch):
    fail_once(monkeypatch, purchases, "set_payment", AutoReconnect("gone"))
    response = shop.buy_video(shop.video())
    assert response.status_code == 503
    [purchase] = shop.db("purchases")
    assert purchase["payment_id"] is None and len(shop.charges()) == 1

    reconcile(shop)

    purchase = shop.purchase(purchase["_id"])
    assert purchase["status"] == "succeeded" and purchase["payment_id"]
    assert len(shop.charges()) == 1 and len(shop.ledger()) == 1


def test_the_purchase_status_lost_after_the_ledger_entry(shop, monkeypatch):
    fail_once(monkeypatch, purchases, "mark_succeeded", AutoReconnect("gone"))
    response = shop.buy_video(shop.video())
    assert response.status_code == 503
    [purchase] = shop.db("purchases")
    assert purchase["status"] == "pending" and len(shop.ledger()) == 1
    reconcile(shop)
    assert shop.purchase(purchase["_id"])["status"] == "succeeded"
    assert len(shop.ledger()) == 1 and len(shop.charges()) == 1


def test_the_provider_away_leaves_the_purchase_pending_and_a_retry_completes_it(shop, monkeypatch):
    video_id = shop.video()
    fail_once(monkeypatch, SandboxProvider, "charge", ProviderUnavailable("timeout"))
    response = shop.buy_video(video_id, key="order")
    assert (response.status_code, response.json["code"]) == (503, "payment_provider_unavailable")
    assert shop.db("purchases")[0]["status"] == "pending" and shop.charges() == []

    other = shop.buy_video(shop.video(), key="order")
    assert (other.status_code, other.json["code"]) == (422, "idempotency_key_reused")
    retry = shop.buy_video(video_id, key="order")

    assert retry.status_code == 201 and retry.json["purchase"]["status"] == "succeeded"
    assert len(shop.db("purchases")) == 1 and len(shop.charges()) == 1


def test_a_pending_authentication_is_left_pending_by_the_sweep(shop):
    response = shop.buy_video(shop.video(), AUTHENTICATION)
    reconcile(shop)
    assert shop.purchase(response.json["purchase"]["id"])["status"] == "pending"
    payment_id = shop.db("purchases")[0]["payment_id"]
    shop.client.post(f"/payments/sandbox/{payment_id}/authenticate")
    shop.db("sandbox_webhooks")  # the webhook is lost: never delivered
    reconcile(shop)
    assert shop.purchase(response.json["purchase"]["id"])["status"] == "succeeded"
    assert len(shop.ledger()) == 1


# Nothing pending forever, and no key re-charged once the provider may have forgotten it
# (Stripe keeps idempotency keys 24 hours): services/payments/charging.py.


def _age(shop, collection, document_id, age):
    from models.db import get_db

    with shop.app.app_context():
        get_db()[collection].update_one(
            {"_id": document_id}, {"$set": {"created_at": utcnow() - age}}
        )


def _forget_keys(shop):
    """The provider forgets every idempotency key (Stripe does after 24 hours)."""
    from models.db import get_db

    with shop.app.app_context():
        for payment in get_db().sandbox_payments.find():
            get_db().sandbox_payments.update_one(
                {"_id": payment["_id"]},
                {"$set": {"idempotency_key": f"forgotten-{payment['_id']}"}},
            )


def test_a_purchase_never_authenticated_is_given_up_and_a_late_yes_refunded(shop):
    video_id = shop.video()
    response = shop.buy_video(video_id, AUTHENTICATION)
    purchase_id, payment_id = (
        response.json["purchase"]["id"],
        response.json["purchase"]["payment_id"],
    )
    reconcile(shop)
    assert shop.purchase(purchase_id)["status"] == "pending"
    _age(shop, "purchases", shop.purchase(purchase_id)["_id"], timedelta(hours=2))

    reconcile(shop)

    given_up = shop.purchase(purchase_id)
    assert given_up["status"] == "failed" and "holding" not in given_up
    again = shop.buy_video(video_id)  # the item is free to buy again
    assert again.status_code == 201 and again.json["purchase"]["status"] == "succeeded"
    shop.client.post(f"/payments/sandbox/{payment_id}/authenticate")  # the bank, too late
    shop.deliver()
    statuses = {charge["_id"]: charge["status"] for charge in shop.charges()}
    assert statuses[payment_id] == "refunded"
    assert [entry["payment_id"] for entry in shop.ledger()] == [
        again.json["purchase"]["payment_id"]
    ]
    assert shop.purchase(purchase_id)["status"] == "failed"


def test_the_sweep_is_not_starved_by_purchases_waiting_for_the_bank(shop, monkeypatch):
    from models.db import get_db

    waiting = shop.buy_video(shop.video(), AUTHENTICATION).json["purchase"]
    with shop.app.app_context():
        template = get_db().purchases.find_one({"_id": ObjectId(waiting["id"])})
        for _ in range(60):  # older than the victim below, all waiting for the bank
            copy = {**template, "_id": ObjectId(), "created_at": utcnow() - timedelta(minutes=10)}
            copy.pop("holding")
            get_db().purchases.insert_one(copy)
    fail_once(monkeypatch, purchases, "mark_succeeded", AutoReconnect("gone"))
    victim = shop.buy_video(shop.video())
    assert victim.status_code == 503
    [lost] = [
        p
        for p in shop.db("purchases")
        if p["status"] == "pending" and p["amount"] == 500 and p["payment_method"] == "pm_card_visa"
    ]
    _age(shop, "purchases", lost["_id"], timedelta(minutes=5))

    reconcile(shop, older_than=timedelta(minutes=3))

    assert shop.purchase(lost["_id"])["status"] == "succeeded"


def test_a_retry_never_charges_again_a_payment_it_knows(shop, monkeypatch):
    video_id = shop.video()
    fail_once(monkeypatch, purchases, "mark_succeeded", AutoReconnect("gone"))
    assert shop.buy_video(video_id, key="order").status_code == 503
    _forget_keys(shop)

    retry = shop.buy_video(video_id, key="order")

    assert retry.status_code == 201 and retry.json["purchase"]["status"] == "succeeded"
    assert len(shop.charges()) == 1 and len(shop.ledger()) == 1


def test_a_purchase_that_never_learnt_its_payment_is_not_charged_a_day_later(shop, monkeypatch):
    fail_once(monkeypatch, purchases, "set_payment", AutoReconnect("gone"))
    assert shop.buy_video(shop.video()).status_code == 503
    [purchase] = shop.db("purchases")
    _age(shop, "purchases", purchase["_id"], timedelta(hours=25))
    _forget_keys(shop)

    reconcile(shop)

    assert shop.purchase(purchase["_id"])["status"] == "failed"
    assert len(shop.charges()) == 1 and shop.ledger() == []


def test_a_payment_refunded_at_the_provider_before_we_settled_gives_no_access(shop):
    """Authenticated at the bank, then refunded from the provider's dashboard while the
    purchase was still pending here (its webhooks lost): the sweep reads "refunded" and
    fails the purchase, with no sale in the ledger and no access."""
    video_id = shop.video()
    response = shop.buy_video(video_id, AUTHENTICATION)
    purchase_id = response.json["purchase"]["id"]
    payment_id = response.json["purchase"]["payment_id"]
    shop.client.post(f"/payments/sandbox/{payment_id}/authenticate")
    with shop.app.app_context():
        shop.app.extensions["payment_provider"].refund(payment_id, idempotency_key="dashboard")

    reconcile(shop)

    purchase = shop.purchase(purchase_id)
    assert purchase["status"] == "failed" and "holding" not in purchase
    assert shop.ledger() == [] and not shop.may_watch(video_id)
    shop.deliver()  # the late webhooks (succeeded, then refunded) change nothing
    assert shop.ledger() == [] and shop.purchase(purchase_id)["status"] == "failed"
