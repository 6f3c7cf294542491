"""The stripe provider against a fake Stripe API on a real socket (tests/support/fake_stripe.py).

The official library does the HTTP (``STRIPE_API_BASE`` points it at the fake); webhooks are
signed as Stripe signs them (``stripe.WebhookSignature.generate_signature_header``: t=...,
v1=HMAC-SHA256 of "t.body"). No network.
"""

import json
import socket
import time

import pytest
import stripe

from config import ConfigError, load_config
from services.payments.provider import (
    FAILED,
    PAYMENT_FAILED,
    PAYMENT_REFUNDED,
    PAYMENT_SUCCEEDED,
    PENDING,
    SUCCEEDED,
    Charge,
    Event,
    InvalidPaymentMethod,
    InvalidSignature,
    PaymentDeclined,
    ProviderUnavailable,
)
from services.payments.stripe_provider import StripeProvider
from tests.support.fake_stripe import FakeStripe

SECRET_KEY = "sk_test_fake_key"
WEBHOOK_SECRET = "whsec_test_secret"


# The library's retries as it makes them, without its half-second back-off.
pytestmark = pytest.mark.usefixtures("stripe_quick_retries")


@pytest.fixture
def fake():
    with FakeStripe(SECRET_KEY) as server:
        yield server


def settings(monkeypatch, api_base, **env):
    """The app's settings read from the environment, as the factory gets them."""
    env = {
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": api_base,
        **env,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return load_config({"APP_ENV": "testing"})


@pytest.fixture
def provider(fake, monkeypatch):
    return StripeProvider(settings(monkeypatch, fake.url))


def charge(provider, payment_method="pm_card_visa", key="key-1", amount=1999):
    return provider.charge(
        amount=amount,
        currency="USD",
        payment_method=payment_method,
        idempotency_key=key,
        metadata={"purchase_id": "p1", "user_id": 42},
    )


class TestCharge:
    def test_a_card_that_pays_is_a_succeeded_payment_intent(self, provider, fake):
        result = charge(provider)

        assert result == Charge(result.payment_id, SUCCEEDED)
        assert result.payment_id.startswith("pi_") and result.payment_id in fake.intents
        [request] = fake.posted("/v1/payment_intents")
        assert request.params == {
            "amount": "1999",
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": "true",
            "automatic_payment_methods[enabled]": "true",
            "automatic_payment_methods[allow_redirects]": "never",
            "metadata[purchase_id]": "p1",
            "metadata[user_id]": "42",
        }
        assert fake.intents[result.payment_id]["amount"] == 1999

    def test_the_secret_key_and_idempotency_key_go_with_the_request(self, provider, fake):
        charge(provider, key="purchase:abc")

        [request] = fake.posted("/v1/payment_intents")
        assert request.headers["authorization"] == f"Bearer {SECRET_KEY}"
        assert request.headers["idempotency-key"] == "purchase:abc"

    def test_a_retry_with_the_same_key_gets_the_first_payment_and_creates_none(
        self, provider, fake
    ):
        first = charge(provider, key="same")
        again = charge(provider, key="same")

        assert again == first
        assert len(fake.intents) == 1
        assert len(fake.posted("/v1/payment_intents")) == 2

    def test_another_key_is_another_payment(self, provider, fake):
        assert charge(provider, key="a") != charge(provider, key="b")
        assert len(fake.intents) == 2

    def test_a_declined_card_is_payment_declined_with_stripes_message(self, provider):
        with pytest.raises(PaymentDeclined) as declined:
            charge(provider, "pm_card_chargeDeclined")

        assert declined.value.reason == "Your card was declined."

    def test_a_retried_decline_stays_declined_without_a_new_intent(self, provider, fake):
        for _ in range(2):
            with pytest.raises(PaymentDeclined):
                charge(provider, "pm_card_chargeDeclined", key="declined")
        assert len(fake.intents) == 1

    def test_a_card_that_needs_authentication_is_pending(self, provider, fake):
        result = charge(provider, "pm_card_authenticationRequired")

        assert result.status == PENDING
        assert fake.intents[result.payment_id]["status"] == "requires_action"

    def test_an_unknown_payment_method_is_invalid_not_a_decline_nor_an_outage(self, provider):
        with pytest.raises(InvalidPaymentMethod, match="No such PaymentMethod"):
            charge(provider, "pm_nonsense")

    def test_a_stripe_outage_is_provider_unavailable_after_retries_with_the_same_key(
        self, provider, fake
    ):
        fake.outage = 500

        with pytest.raises(ProviderUnavailable):
            charge(provider, key="during-outage")

        attempts = fake.posted("/v1/payment_intents")
        assert len(attempts) == 3  # the first try and the library's two retries
        assert {a.headers["idempotency-key"] for a in attempts} == {"during-outage"}

    def test_a_wrong_secret_key_is_provider_unavailable(self, fake, monkeypatch):
        wrong = StripeProvider(settings(monkeypatch, fake.url, STRIPE_SECRET_KEY="sk_test_wrong"))

        with pytest.raises(ProviderUnavailable, match="AuthenticationError"):
            charge(wrong)

    def test_stripe_unreachable_is_provider_unavailable(self, monkeypatch):
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        unreachable = StripeProvider(settings(monkeypatch, f"http://127.0.0.1:{port}"))

        with pytest.raises(ProviderUnavailable, match="APIConnectionError"):
            charge(unreachable)

    def test_an_amount_that_is_not_an_int_is_refused_before_any_request(self, provider, fake):
        for amount in (19.99, "1999", True):
            with pytest.raises(TypeError):
                charge(provider, amount=amount)
        assert fake.requests == []


class TestRetrieve:
    def test_a_succeeded_payment(self, provider):
        paid = charge(provider)

        assert provider.retrieve(paid.payment_id) == Charge(paid.payment_id, SUCCEEDED)

    def test_a_pending_payment(self, provider):
        pending = charge(provider, "pm_card_authenticationRequired")

        assert provider.retrieve(pending.payment_id).status == PENDING

    def test_a_declined_payment_is_failed_with_its_last_error(self, provider, fake):
        with pytest.raises(PaymentDeclined):
            charge(provider, "pm_card_chargeDeclined")
        [payment_id] = fake.intents

        assert provider.retrieve(payment_id) == Charge(
            payment_id, FAILED, "Your card was declined."
        )

    def test_an_outage_is_provider_unavailable(self, provider, fake):
        paid = charge(provider)
        fake.outage = 503

        with pytest.raises(ProviderUnavailable):
            provider.retrieve(paid.payment_id)


class TestRefund:
    def test_refunds_the_payment_intent_with_the_idempotency_key(self, provider, fake):
        paid = charge(provider)

        assert provider.refund(paid.payment_id, idempotency_key="refund:1") is None

        [request] = fake.posted("/v1/refunds")
        assert request.params == {"payment_intent": paid.payment_id}
        assert request.headers["idempotency-key"] == "refund:1"
        [refund] = fake.refunds.values()
        assert refund["amount"] == 1999

    def test_a_retried_refund_refunds_once(self, provider, fake):
        paid = charge(provider)

        provider.refund(paid.payment_id, idempotency_key="refund:1")
        provider.refund(paid.payment_id, idempotency_key="refund:1")

        assert len(fake.refunds) == 1

    def test_a_payment_already_refunded_is_done(self, provider, fake):
        paid = charge(provider)
        provider.refund(paid.payment_id, idempotency_key="refund:1")

        provider.refund(paid.payment_id, idempotency_key="refund:2")

        assert len(fake.refunds) == 1

    def test_an_outage_is_provider_unavailable(self, provider, fake):
        paid = charge(provider)
        fake.outage = 500

        with pytest.raises(ProviderUnavailable):
            provider.refund(paid.payment_id, idempotency_key="refund:1")
        assert fake.refunds == {}


def stripe_event(kind, thing, event_id="evt_1"):
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": stripe.api_version,
            "created": int(time.time()),
            "livemode": False,
            "type": kind,
            "data": {"object": thing},
        }
    ).encode()


def signed(payload, secret=WEBHOOK_SECRET, timestamp=None):
    """The Stripe-Signature header Stripe would send with this body."""
    return stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=timestamp
    )


SUCCEEDED_BODY = stripe_event(
    "payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent", "status": "succeeded"}
)


class TestWebhookSignature:
    def test_a_signed_event_parses(self, provider):
        assert provider.parse_event(SUCCEEDED_BODY, signed(SUCCEEDED_BODY)) == Event(
            "evt_1", PAYMENT_SUCCEEDED, "pi_1"
        )

    def test_a_tampered_body_is_refused(self, provider):
        header = signed(SUCCEEDED_BODY)
        tampered = SUCCEEDED_BODY.replace(b'"pi_1"', b'"pi_2"')

        with pytest.raises(InvalidSignature):
            provider.parse_event(tampered, header)

    def test_another_secret_is_refused(self, provider):
        with pytest.raises(InvalidSignature):
            provider.parse_event(SUCCEEDED_BODY, signed(SUCCEEDED_BODY, "whsec_someone_else"))

    def test_an_event_older_than_the_tolerance_is_refused(self, provider):
        old = int(time.time()) - 301

        with pytest.raises(InvalidSignature, match="tolerance"):
            provider.parse_event(SUCCEEDED_BODY, signed(SUCCEEDED_BODY, timestamp=old))

    def test_the_tolerance_comes_from_the_settings(self, fake, monkeypatch):
        lenient = StripeProvider(settings(monkeypatch, fake.url, WEBHOOK_TOLERANCE_SECONDS="900"))
        old = int(time.time()) - 600

        assert lenient.parse_event(SUCCEEDED_BODY, signed(SUCCEEDED_BODY, timestamp=old))

    @pytest.mark.parametrize("header", [None, "", "garbage", "t=1", "v1=abc"])
    def test_a_missing_or_malformed_header_is_refused(self, provider, header):
        with pytest.raises(InvalidSignature):
            provider.parse_event(SUCCEEDED_BODY, header)

    def test_a_signed_body_that_is_not_json_is_refused(self, provider):
        with pytest.raises(InvalidSignature):
            provider.parse_event(b"not json", signed(b"not json"))


class TestWebhookEvents:
    def parse(self, provider, kind, thing):
        body = stripe_event(kind, thing, event_id="evt_42")
        return provider.parse_event(body, signed(body))

    def test_payment_failed_carries_the_last_error(self, provider):
        intent = {
            "id": "pi_7",
            "object": "payment_intent",
            "status": "requires_payment_method",
            "last_payment_error": {"type": "card_error", "message": "Insufficient funds."},
        }

        assert self.parse(provider, "payment_intent.payment_failed", intent) == Event(
            "evt_42", PAYMENT_FAILED, "pi_7", "Insufficient funds."
        )

    def test_a_refunded_charge_is_its_payment_intent_refunded(self, provider):
        refunded = {"id": "ch_1", "object": "charge", "payment_intent": "pi_9", "refunded": True}

        assert self.parse(provider, "charge.refunded", refunded) == Event(
            "evt_42", PAYMENT_REFUNDED, "pi_9"
        )

    def test_a_partial_refund_is_ignored(self, provider):
        partial = {"id": "ch_1", "object": "charge", "payment_intent": "pi_9", "refunded": False}

        assert self.parse(provider, "charge.refunded", partial) is None

    def test_other_event_types_are_ignored(self, provider):
        customer = {"id": "cus_1", "object": "customer"}

        assert self.parse(provider, "customer.created", customer) is None


class TestSettings:
    @pytest.mark.parametrize("missing", ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"])
    def test_a_missing_secret_refuses_to_start(self, monkeypatch, missing):
        config = settings(monkeypatch, "http://127.0.0.1:9")
        config[missing] = None

        with pytest.raises(ConfigError, match=missing):
            StripeProvider(config)

    def test_a_tolerance_of_zero_which_stripe_reads_as_none_refuses_to_start(self, monkeypatch):
        config = settings(monkeypatch, "http://127.0.0.1:9", WEBHOOK_TOLERANCE_SECONDS="0")

        with pytest.raises(ConfigError, match="WEBHOOK_TOLERANCE_SECONDS"):
            StripeProvider(config)

    def test_each_provider_has_its_own_client_and_sets_no_global(self, fake, monkeypatch):
        before = (stripe.api_key, stripe.api_base)

        provider = StripeProvider(settings(monkeypatch, fake.url))

        assert (stripe.api_key, stripe.api_base) == before
        assert provider.client is not StripeProvider(settings(monkeypatch, fake.url)).client
