"""Charging for a purchase, the same way from the request and from the reconciliation sweep.

The provider's idempotency key is derived from the purchase id (``purchase:<id>``), so the
request, a client's retry and the sweep asking again all reach the same payment: whatever
fails between the charge and the ledger, the buyer is charged once.
"""

from models import payment as payment_purposes
from models import purchase as purchases
from models.common import utcnow
from services.payments.settlement import PURCHASE


def idempotency_key(purchase_id, action="charge"):
    return f"purchase:{purchase_id}:{action}"


def charge(provider, purchase):
    """The provider's Charge for ``purchase``, recorded (its payment id and what it pays).
    Raises the provider's errors (PaymentDeclined, InvalidPaymentMethod, ProviderUnavailable)."""
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
