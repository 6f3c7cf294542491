"""The ``stripe`` payment provider: PaymentIntents through the official library (docs/stripe.md).

Each provider has its own ``stripe.StripeClient`` (no module globals): the secret key, the
API base (``STRIPE_API_BASE``, tests only), retries and a timeout. Every request that creates
something carries our idempotency key, so a retry, ours or the library's, never charges or
refunds twice. Webhooks are verified by the library (``construct_event``: Stripe's
``t=...,v1=HMAC-SHA256`` scheme, and the tolerance against replays), never by hand here.
"""

import stripe

from config import ConfigError
from services.payments.provider import (
    FAILED,
    PAYMENT_FAILED,
    PAYMENT_REFUNDED,
    PAYMENT_SUCCEEDED,
    PENDING,
    REFUNDED,
    SUCCEEDED,
    Charge,
    Event,
    InvalidPaymentMethod,
    InvalidSignature,
    PaymentDeclined,
    ProviderUnavailable,
)

# The library retries connection errors, 409 and 5xx with the same idempotency key.
MAX_NETWORK_RETRIES = 2
# Connect, read (seconds): a request thread waits at most this long per attempt.
TIMEOUT_SECONDS = (5, 30)
DECLINED = "The payment was declined."
# PaymentIntent statuses still waiting on the customer's bank or on Stripe.
WAITING = {"requires_action", "processing", "requires_confirmation", "requires_capture"}


def intent_status(intent):
    """SUCCEEDED, PENDING or FAILED for a PaymentIntent (a dict)."""
    status = intent.get("status")
    if status == "succeeded":
        return SUCCEEDED
    if status in WAITING:
        return PENDING
    return FAILED  # requires_payment_method (declined), canceled


def failure_reason(intent):
    error = intent.get("last_payment_error") or {}
    return error.get("message")


def declined_reason(error):
    """Stripe's words for the user about a refused payment method."""
    return error.user_message or DECLINED


def unavailable(error):
    """A ProviderUnavailable naming what went wrong (Stripe masks keys in its messages)."""
    return ProviderUnavailable(f"stripe: {type(error).__name__}: {error.user_message or ''}")


def about_payment_method(error):
    """A 400 about the payment method the caller gave (no such method, unusable one): Stripe
    refused the request itself, so nothing was charged (InvalidPaymentMethod, not a decline)."""
    param = getattr(error, "param", None) or ""
    return isinstance(error, stripe.InvalidRequestError) and param.startswith("payment_method")


class StripeProvider:
    """The PaymentProvider of ``PAYMENT_PROVIDER=stripe`` (services/payments/provider.py)."""

    name = "stripe"

    def __init__(self, config):
        missing = [
            key for key in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET") if not config.get(key)
        ]
        if missing:
            raise ConfigError(f"PAYMENT_PROVIDER=stripe needs {' and '.join(missing)}")
        self.tolerance = config.get("WEBHOOK_TOLERANCE_SECONDS", 300)
        if not self.tolerance or self.tolerance <= 0:
            # The library treats 0 as "no limit": a captured webhook could be replayed forever.
            raise ConfigError("WEBHOOK_TOLERANCE_SECONDS must be positive")
        self.webhook_secret = config["STRIPE_WEBHOOK_SECRET"]
        base = config.get("STRIPE_API_BASE")
        self.client = stripe.StripeClient(
            config["STRIPE_SECRET_KEY"],
            base_addresses={"api": base} if base else None,
            max_network_retries=MAX_NETWORK_RETRIES,
            http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        )

    def charge(self, *, amount, currency, payment_method, idempotency_key, metadata) -> Charge:
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise TypeError(f"amount must be an int of minor units, got {amount!r}")
        params = {
            "amount": amount,
            "currency": currency.lower(),
            "payment_method": payment_method,
            "confirm": True,
            # Card payments confirmed here; no payment method that redirects the customer away.
            "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
            "metadata": {str(key): str(value) for key, value in (metadata or {}).items()},
        }
        try:
            intent = self.client.v1.payment_intents.create(
                params, {"idempotency_key": idempotency_key}
            ).to_dict()
        except stripe.CardError as error:
            raise PaymentDeclined(declined_reason(error)) from error
        except stripe.StripeError as error:
            if about_payment_method(error):
                raise InvalidPaymentMethod(error.user_message or DECLINED) from error
            raise unavailable(error) from error
        status = intent_status(intent)
        if status == FAILED:
            raise PaymentDeclined(failure_reason(intent) or DECLINED)
        return Charge(intent["id"], status)

    def retrieve(self, payment_id) -> Charge:
        try:
            intent = self.client.v1.payment_intents.retrieve(
                payment_id, {"expand": ["latest_charge"]}
            ).to_dict()
        except stripe.StripeError as error:
            raise unavailable(error) from error
        status = intent_status(intent)
        charge = intent.get("latest_charge")
        if status == SUCCEEDED and isinstance(charge, dict) and charge.get("refunded"):
            status = REFUNDED  # an intent stays succeeded when its charge is refunded
        reason = failure_reason(intent) if status == FAILED else None
        return Charge(intent["id"], status, reason)

    def refund(self, payment_id, *, idempotency_key) -> None:
        try:
            self.client.v1.refunds.create(
                {"payment_intent": payment_id}, {"idempotency_key": idempotency_key}
            )
        except stripe.InvalidRequestError as error:
            if error.code != "charge_already_refunded":  # already given back: done
                raise unavailable(error) from error
        except stripe.StripeError as error:
            raise unavailable(error) from error

    def parse_event(self, payload: bytes, signature_header: str | None) -> Event | None:
        try:
            event = self.client.construct_event(
                payload, signature_header, self.webhook_secret, self.tolerance
            ).to_dict()
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise InvalidSignature(str(error)) from error
        return event_of(event)


def event_of(event):
    """The provider-neutral Event of a verified Stripe event (a dict), or None to ignore it."""
    kind, thing = event.get("type"), (event.get("data") or {}).get("object") or {}
    if kind == "payment_intent.succeeded":
        return Event(event["id"], PAYMENT_SUCCEEDED, thing["id"])
    if kind == "payment_intent.payment_failed":
        return Event(event["id"], PAYMENT_FAILED, thing["id"], failure_reason(thing) or DECLINED)
    # charge.refunded also fires for a partial refund (made in the dashboard): the API only
    # ever refunds whole payments, so only a fully refunded charge ends access.
    if kind == "charge.refunded" and thing.get("refunded") and thing.get("payment_intent"):
        return Event(event["id"], PAYMENT_REFUNDED, thing["payment_intent"])
    return None
