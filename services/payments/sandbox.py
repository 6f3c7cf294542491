"""The built-in payment provider (``PAYMENT_PROVIDER=sandbox``): test cards, no money.

It behaves like a real provider as the API sees it. Its state is in MongoDB
(models.sandbox_payment), so every worker sees the same payments. A charge retried with the
same idempotency key returns the first payment and charges nothing more. Every settlement
(a synchronous success too) queues one signed webhook event with its own id, which the
deliverer (services.payments.webhook_delivery) POSTs to the API's ``/payments/webhook``
until it gets a 2xx; the API's webhook route verifies it like a Stripe one.

Test payment methods (``METHODS``): ``pm_card_visa`` succeeds; ``pm_card_chargeDeclined``
is declined ("Your card was declined."); ``pm_card_authenticationRequired`` stays pending
until ``authenticate`` (``POST /payments/sandbox/{payment_id}/authenticate``, development
and testing only) plays the bank's part. Any other method is InvalidPaymentMethod.
"""

import json
import time

from flask import has_request_context

from models import sandbox_payment as store
from models.common import utcnow
from services import urls
from services.errors import Conflict, NotFound
from services.payments import signing
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

DECLINED = "Your card was declined."
METHODS = {
    "pm_card_visa": (SUCCEEDED, None),
    "pm_card_chargeDeclined": (FAILED, DECLINED),
    "pm_card_authenticationRequired": (PENDING, None),
}
EVENT_TYPES = {PAYMENT_SUCCEEDED, PAYMENT_FAILED, PAYMENT_REFUNDED}
WEBHOOK_PATH = "/payments/webhook"


class SandboxProvider:
    name = "sandbox"

    def __init__(self, config, notify=None):
        self.secret = config["SANDBOX_WEBHOOK_SECRET"]
        self.tolerance = config["WEBHOOK_TOLERANCE_SECONDS"]
        self.public_base_url = config.get("PUBLIC_BASE_URL")
        self.notify = notify or (lambda: None)  # wakes the webhook deliverer

    def charge(self, *, amount, currency, payment_method, idempotency_key, metadata):
        if payment_method not in METHODS:
            raise InvalidPaymentMethod(f"Unknown sandbox payment method {payment_method!r}.")
        payment = store.find_by_key(idempotency_key) or self._create(
            amount, currency, payment_method, idempotency_key, metadata
        )
        if payment["status"] == FAILED:
            raise PaymentDeclined(payment["failure_reason"])
        return _charge_of(payment)

    def _create(self, amount, currency, payment_method, idempotency_key, metadata):
        status, reason = METHODS[payment_method]
        now = utcnow()
        payment = {
            "_id": store.new_payment_id(),
            "idempotency_key": idempotency_key,
            "amount": amount,
            "currency": currency,
            "payment_method": payment_method,
            "status": status,
            "failure_reason": reason,
            "metadata": dict(metadata or {}),
            "webhook_url": self._webhook_url(),
            "created_at": now,
            "updated_at": now,
        }
        if not store.insert(payment):  # a concurrent retry with the key charged first
            return store.find_by_key(idempotency_key)
        if status != PENDING:
            self._emit(payment, PAYMENT_SUCCEEDED if status == SUCCEEDED else PAYMENT_FAILED)
        return payment

    def _webhook_url(self):
        if self.public_base_url:
            return self.public_base_url.rstrip("/") + WEBHOOK_PATH
        return urls.base_url() + WEBHOOK_PATH if has_request_context() else None

    def retrieve(self, payment_id):
        payment = store.find(payment_id)
        if payment is None:
            raise ProviderUnavailable(f"The sandbox has no payment {payment_id}.")
        return _charge_of(payment)

    def refund(self, payment_id, *, idempotency_key):
        payment = store.find(payment_id)
        if payment is None or payment["status"] not in (SUCCEEDED, REFUNDED):
            raise ProviderUnavailable(f"The sandbox cannot refund payment {payment_id}.")
        if store.move(payment_id, SUCCEEDED, REFUNDED, utcnow(), refund_key=idempotency_key):
            self._emit(payment, PAYMENT_REFUNDED)

    def authenticate(self, payment_id):
        """The bank's part of a payment that needs authentication: it succeeds, and its
        ``payment.succeeded`` event is queued. Authenticating again changes nothing."""
        payment = store.find(payment_id)
        if payment is None:
            raise NotFound("No such sandbox payment.", code="payment_not_found")
        if store.move(payment_id, PENDING, SUCCEEDED, utcnow()):
            self._emit(payment, PAYMENT_SUCCEEDED)
            payment = store.find(payment_id)
        if payment["status"] != SUCCEEDED:
            raise Conflict(
                f"The payment is {payment['status']}, not waiting for authentication.",
                code="payment_not_pending",
            )
        return payment

    def _emit(self, payment, event_type):
        if not payment.get("webhook_url"):
            return  # created where no URL could be known (no request, no PUBLIC_BASE_URL)
        event_id = f"evt_{payment['_id']}_{event_type.split('.')[-1]}"
        body = {
            "id": event_id,
            "type": event_type,
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": payment["_id"],
                    "failure_reason": payment.get("failure_reason")
                    if event_type == PAYMENT_FAILED
                    else None,
                }
            },
        }
        payload = json.dumps(body, separators=(",", ":"))
        now = utcnow()
        if store.queue_event(
            event_id, payment["_id"], event_type, payment["webhook_url"], payload, now
        ):
            self.notify()

    def sign(self, payload, timestamp=None):
        """The ``Stripe-Signature`` header for ``payload`` (bytes), as this sandbox signs."""
        return signing.header(self.secret, payload, timestamp)

    def parse_event(self, payload, signature_header):
        signing.verify(self.secret, payload, signature_header, self.tolerance)
        try:
            body = json.loads(payload)
            event_id, event_type = body["id"], body["type"]
            found = body["data"]["object"]
            payment_id = found["id"]
        except (ValueError, KeyError, TypeError) as error:
            raise InvalidSignature("The event body is malformed.") from error
        reason = found.get("failure_reason")
        # Ids become query values: only strings, whoever signed the body.
        if not all(isinstance(value, str) for value in (event_id, event_type, payment_id)) or (
            reason is not None and not isinstance(reason, str)
        ):
            raise InvalidSignature("The event body is malformed.")
        if event_type not in EVENT_TYPES:
            return None
        return Event(event_id, event_type, payment_id, reason)


def _charge_of(payment):
    return Charge(payment["_id"], payment["status"], payment.get("failure_reason"))
