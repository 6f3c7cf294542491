"""What the API needs from a payment provider, whichever it is (``PAYMENT_PROVIDER``).

Two implement it: ``sandbox`` (built in, the default outside production: test payment
methods, asynchronous settlement by signed webhooks) and ``stripe`` (the official library,
PaymentIntents). The rest of the API sees only this interface, provider-neutral events,
and the errors below.
"""

from dataclasses import dataclass
from typing import Protocol

SUCCEEDED, PENDING, FAILED = "succeeded", "pending", "failed"
# Succeeded, then given back whole (``retrieve`` only): the money is not ours to settle.
REFUNDED = "refunded"

# The provider-neutral events a webhook may carry (each provider maps its own names).
PAYMENT_SUCCEEDED = "payment.succeeded"
PAYMENT_FAILED = "payment.failed"
PAYMENT_REFUNDED = "payment.refunded"


@dataclass(frozen=True)
class Charge:
    """A payment as the provider sees it: its id, and where it stands."""

    payment_id: str
    status: str  # SUCCEEDED | PENDING (the bank must authenticate) | FAILED | REFUNDED
    failure_reason: str | None = None


@dataclass(frozen=True)
class Event:
    """A verified webhook event: unique ``id`` (retries repeat it), type, payment."""

    id: str
    type: str
    payment_id: str
    failure_reason: str | None = None


class PaymentDeclined(Exception):
    """The provider refused the payment method; ``reason`` is its words for the user."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class InvalidPaymentMethod(Exception):
    """The payment method is not one the provider knows: nothing was charged (a client
    mistake, 400, not a decline)."""


class ProviderUnavailable(Exception):
    """The provider could not be reached or answered with an error not about the card."""


class InvalidSignature(Exception):
    """A webhook whose signature does not verify, or is older than the tolerance."""


class PaymentProvider(Protocol):
    name: str

    def charge(self, *, amount, currency, payment_method, idempotency_key, metadata) -> Charge:
        """Create and confirm a payment. The same ``idempotency_key`` never charges twice:
        a retry gets the first payment back. Raises PaymentDeclined, ProviderUnavailable."""

    def retrieve(self, payment_id) -> Charge:
        """The payment's current state (for reconciling a payment left pending)."""

    def refund(self, payment_id, *, idempotency_key) -> None:
        """Give the whole payment back. Raises ProviderUnavailable."""

    def parse_event(self, payload: bytes, signature_header: str | None) -> Event | None:
        """The verified event of a webhook body (None for event types the API ignores).
        Raises InvalidSignature."""
