"""The database killed between the provider's charge and the ledger entry, for real.

The package's embedded database (conftest.py ``servers``) is killed with SIGKILL from a hook
in the purchase itself, right after the sandbox's charge returns (nothing recorded yet) or
when settlement begins (the payment id recorded, the ledger not written), while the API
answers on a real socket (tests/support/live_server.py) in this process, on a database of
its own in that server. The client gets a 503; the database is started again on the same
port and storage; then the client retries with the same ``Idempotency-Key``, or never does
and only the reconciliation sweep runs. Either way: one sandbox charge, one purchase
succeeded, one ledger sale, and access.

The idempotency lease is shortened to a second: the killed request could not release its
key (the database was gone), so a retry waits for the lease (60 s in production).
"""

import uuid
from datetime import timedelta

import pytest
from pymongo import MongoClient

from app import close_connections, create_app
from services import idempotency
from services.payments import settlement
from services.payments.sandbox import SandboxProvider
from tests.support.accounts import Accounts
from tests.support.apps import test_config
from tests.support.faults import SOON, wait_until
from tests.support.live_server import HttpClient, LiveServer
from tests.support.payments import VISA, Shop

pytestmark = [pytest.mark.slow, pytest.mark.embedded]

LEASE = timedelta(seconds=1)


@pytest.fixture
def shop(servers, monkeypatch):
    """A shop (tests/support/payments.py) on its own database in the package's server, its
    API on a real socket: (shop, http client)."""
    monkeypatch.setattr(idempotency, "LEASE", LEASE)
    name = f"payfault_{uuid.uuid4().hex[:10]}"
    app = create_app(test_config(MONGODB_URI=servers.database.uri(name), MONGODB_TIMEOUT_MS=1000))
    live = LiveServer(app).start()
    try:
        yield (
            Shop(app, app.test_client(), Accounts(app.test_client(), app)),
            HttpClient(live.base_url, timeout=SOON * 2),
        )
    finally:
        live.stop()
        servers.database_up()
        close_connections(app)
        with MongoClient(servers.database.uri(), serverSelectionTimeoutMS=5000) as client:
            client.drop_database(name)


def kill_after(servers, monkeypatch, owner, name):
    """Kill the database when ``owner.name`` is called (after it returns for the provider's
    charge, before it runs for settlement), once."""
    real = getattr(owner, name)
    killed = []

    def kill():
        if not killed:
            killed.append(True)
            servers.database.kill()

    if owner is SandboxProvider:

        def hooked(self, **kwargs):
            result = real(self, **kwargs)
            kill()
            return result

    else:

        def hooked(*args, **kwargs):
            kill()
            return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, hooked)
    return killed


HOOKS = {
    "after_the_charge_returns": (SandboxProvider, "charge"),
    "before_the_ledger_write": (settlement, "apply_charge"),
}


def buy(shop, http, video_id, key):
    headers = {**shop.accounts.bearer(shop.buyer), "Idempotency-Key": key}
    body = {"video_id": video_id, "payment_method": VISA}
    return http.request("POST", "/purchases", body, headers=headers)


def back_up(servers, shop):
    """The database started again on the same port and storage; the app reaches it."""
    servers.database.start()
    wait_until(lambda: shop.client.get("/health").status_code == 200, SOON, message="/health 200")


def killed_purchase(servers, shop, http, monkeypatch, hook):
    video_id = shop.video()
    killed = kill_after(servers, monkeypatch, *HOOKS[hook])
    key = uuid.uuid4().hex
    reply = buy(shop, http, video_id, key)
    assert killed, "the hook never ran"
    assert reply.status == 503, reply.body[:300]
    assert reply.json()["code"] == "database_unavailable"
    monkeypatch.undo()
    monkeypatch.setattr(idempotency, "LEASE", LEASE)
    back_up(servers, shop)
    assert len(shop.charges()) == 1  # the sandbox's charge was stored before the kill
    assert shop.ledger() == []
    [purchase] = shop.db("purchases")
    assert purchase["status"] == "pending"
    return video_id, key, purchase


def assert_once(shop, video_id, purchase):
    """One charge, one purchase succeeded by it, one ledger sale of it, and access."""
    [charge] = shop.charges()
    [stored] = shop.db("purchases")
    assert stored["_id"] == purchase["_id"]
    assert (stored["status"], stored["payment_id"]) == ("succeeded", charge["_id"])
    assert [(entry["kind"], entry["payment_id"], entry["gross"]) for entry in shop.ledger()] == [
        ("sale", charge["_id"], 500)
    ]
    assert shop.may_watch(video_id)


def sweep(shop):
    return shop.app.extensions["payment_jobs"].reconcile(older_than=timedelta(0))


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_the_clients_retry_with_its_key_settles_it_once(servers, shop, monkeypatch, hook):
    shop, http = shop
    video_id, key, purchase = killed_purchase(servers, shop, http, monkeypatch, hook)

    retry = wait_until(  # 409 idempotency_in_progress until the killed request's lease ends
        lambda: (reply := buy(shop, http, video_id, key)).status == 201 and reply,
        SOON,
        interval=0.2,
        message="the retry's 201",
    )

    body = retry.json()["purchase"]
    assert (body["id"], body["status"]) == (str(purchase["_id"]), "succeeded")
    sweep(shop)  # the sweep afterwards finds nothing to do
    again = buy(shop, http, video_id, key)
    assert again.status == 201 and again.json() == retry.json()
    assert_once(shop, video_id, purchase)


@pytest.mark.parametrize("hook", sorted(HOOKS))
def test_without_a_retry_the_sweep_settles_it_once(servers, shop, monkeypatch, hook):
    shop, http = shop
    video_id, _, purchase = killed_purchase(servers, shop, http, monkeypatch, hook)

    assert sweep(shop) == 1
    assert sweep(shop) == 0

    assert_once(shop, video_id, purchase)
    other = buy(shop, http, video_id, uuid.uuid4().hex)  # a new key: owned already
    assert (other.status, other.json()["code"]) == (409, "already_owned")
    assert len(shop.charges()) == 1
