"""What is not lost when the database or the provider goes away mid-purchase: the
reconciliation sweep (services/payments/jobs.py) settles it, and the buyer is charged once."""

from datetime import timedelta

import pytest
from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError

from models import ledger
from models import purchase as purchases
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
