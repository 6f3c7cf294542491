"""Charging for a purchase, the same way from the request and from the reconciliation sweep.

The provider's idempotency key is derived from the purchase id (``purchase:<id>``), so the
request, a client's retry and the sweep asking again all reach the same payment: whatever
fails between the charge and the ledger, the buyer is charged once.
"""

import logging
from datetime import timedelta

from models import payment as payment_purposes
from models import purchase as purchases
from models.common import as_utc, utcnow
from services.payments.provider import FAILED, PaymentDeclined
from services.payments.settlement import PURCHASE

log = logging.getLogger(__name__)

# A payment still waiting for the buyer's bank this long after the purchase was made is
# given up (the purchase fails and frees the item; a late success is refunded, settlement
# ``give_back``): nothing stays pending, or holds an item, forever.
GIVE_UP_AFTER = timedelta(hours=1)
# The provider is never asked to charge a key older than this: Stripe forgets idempotency
# keys after 24 hours, and would then take a second payment.
KEY_LIFETIME = timedelta(hours=20)
NOT_AUTHENTICATED = "The payment was not authenticated in time; nothing was kept. Buy again."
NOT_CONFIRMED = "The payment could not be confirmed in time; nothing more is charged. Buy again."


def idempotency_key(purchase_id, action="charge"):
    return f"purchase:{purchase_id}:{action}"


def age(document, now=None):
    return (now or utcnow()) - as_utc(document["created_at"])


def charge(provider, purchase):
    """The provider's Charge for ``purchase``, recorded (its payment id and what it pays).
    A payment known already is retrieved, never charged again; one never learnt is charged
    again with the purchase's key only while the provider still keeps the key.
    Raises the provider's errors (PaymentDeclined, InvalidPaymentMethod, ProviderUnavailable)."""
    if purchase.get("payment_id"):
        known = provider.retrieve(purchase["payment_id"])
        if known.status == FAILED:
            raise PaymentDeclined(known.failure_reason or "The payment failed.")
        return known
    if age(purchase) > KEY_LIFETIME:
        log.error("purchase %s never learnt its payment: check the provider", purchase["_id"])
        raise PaymentDeclined(NOT_CONFIRMED)
    result = provider.charge(
        amount=purchase["amount"],
        currency=purchase["currency"],
        payment_method=purchase["payment_method"],
        idempotency_key=idempotency_key(purchase["_id"]),
        metadata={
            "purpose": PURCHASE,
            "purchase_id": str(purchase["_id"]),
            "user_id": str(purchase["user_id"]),
        },
    )
    if purchase.get("payment_id") != result.payment_id:
        purchases.set_payment(purchase["_id"], result.payment_id, provider.name)
    payment_purposes.record(result.payment_id, provider.name, PURCHASE, purchase["_id"], utcnow())
    return result
