"""What a settled payment does: the ledger entry and the status of what it paid for.

Every payment names its purpose (models.payment: ``{type: "purchase"|"subscription", id}``)
and settling dispatches on the type to a handler registered in ``HANDLERS`` (purchases here;
subscriptions register theirs). Each handler's steps are idempotent and race-safe, so a
webhook retried, two workers and the reconciliation sweep settling one payment at once
write one result:

* the ledger entry first, with an ``_id`` derived from the payment (models.ledger: the
  unique ``_id`` decides, a second write is a no-op);
* then the status, by a conditional update (``pending -> succeeded``: one wins).

In that order a crash in between leaves a pending purchase whose ledger entry exists; the
sweep (services.payments.reconcile) asks the provider and settles it again, which adds
nothing to the ledger and moves the status. A succeeded purchase always has its entry.
"""

import logging

from models import ledger
from models import payment as payment_purposes
from models import purchase as purchases
from models.common import utcnow
from services import money
from services.payments import factory
from services.payments.provider import (
    FAILED,
    PAYMENT_FAILED,
    PAYMENT_REFUNDED,
    PAYMENT_SUCCEEDED,
    REFUNDED,
    SUCCEEDED,
)

log = logging.getLogger(__name__)

PURCHASE, SUBSCRIPTION = "purchase", "subscription"


def _entry(kind, purchase, payment_id, amounts, now):
    return {
        "_id": ledger.entry_id(payment_id, kind),
        "kind": kind,
        "payment_id": payment_id,
        "creator_id": purchase["creator_id"],
        "user_id": purchase["user_id"],
        "item": purchase["item"],
        "currency": purchase["currency"],
        "month": now.strftime("%Y-%m"),
        **amounts,
        "created_at": now,
    }


def _sale(purchase, payment_id, now):
    """The sale entry of ``purchase`` (the one in the ledger if written already)."""
    found = ledger.find(payment_id, ledger.SALE)
    if found is not None:
        return found
    entry = _entry(ledger.SALE, purchase, payment_id, money.split(purchase["amount"]), now)
    ledger.append(entry)
    return entry


def give_back(payment_id, idempotency_key, what):
    """A payment that succeeded for something no longer waiting for it (a subscription
    cancelled while pending, a renewal ended for want of authentication, a purchase given
    up): refunded at once with ``idempotency_key`` and never entered in the ledger, so no
    one pays for nothing. Raises ProviderUnavailable (the webhook answers 503 and the
    provider sends it again)."""
    log.warning("payment %s succeeded for %s, which no longer wants it: refunded", payment_id, what)
    factory.provider().refund(payment_id, idempotency_key=idempotency_key)
    return False


class PurchaseSettlement:
    """A one-time purchase of a video or a course."""

    @staticmethod
    def succeeded(purchase_id, payment_id):
        purchase = purchases.find(purchase_id)
        if purchase is None:
            log.error("payment %s succeeded for purchase %s, unknown", payment_id, purchase_id)
            return False
        if purchase["status"] == purchases.FAILED:
            key = f"purchase:{purchase_id}:refund"
            return give_back(payment_id, key, f"purchase {purchase_id} (failed)")
        if purchase["status"] == purchases.REFUNDED:
            return False
        _sale(purchase, payment_id, utcnow())
        return purchases.mark_succeeded(purchase_id, utcnow())

    @staticmethod
    def failed(purchase_id, reason, payment_id=None):
        """Only a pending purchase fails (a late failure of a settled one changes nothing)."""
        return purchases.mark_failed(purchase_id, reason or "The payment failed.", utcnow())

    @staticmethod
    def refunded(purchase_id, payment_id):
        """The ledger's refund entry (the sale's amounts negated), then ``refunded``."""
        purchase = purchases.find(purchase_id)
        if purchase is None or purchase["status"] not in (purchases.SUCCEEDED, purchases.REFUNDED):
            return False
        now = utcnow()
        sale = _sale(purchase, payment_id, now)
        amounts = {name: sale[name] for name in ("gross", "creator_share", "platform_share")}
        ledger.append(
            _entry(ledger.REFUND, purchase, payment_id, money.reversed_amounts(amounts), now)
        )
        return purchases.mark_refunded(purchase_id, now)


HANDLERS = {PURCHASE: PurchaseSettlement}


def register(purpose_type, handler):
    """Add what settling a payment of ``purpose_type`` does (subscriptions)."""
    HANDLERS[purpose_type] = handler


def apply_charge(purpose_type, purpose_id, charge):
    """Settle by the provider's word on a payment (a charge's answer, or ``retrieve``):
    succeeded or failed; a pending payment waits."""
    handler = HANDLERS[purpose_type]
    if charge.status == REFUNDED:
        # Given back at the provider (its dashboard) before or after we settled: a settled
        # payment is reversed; one still pending here fails, with no sale and no access.
        handler.refunded(purpose_id, charge.payment_id)
        return handler.failed(purpose_id, "The payment was refunded.", payment_id=charge.payment_id)
    if charge.status == SUCCEEDED:
        return handler.succeeded(purpose_id, charge.payment_id)
    if charge.status == FAILED:
        return handler.failed(purpose_id, charge.failure_reason, payment_id=charge.payment_id)
    return False


def apply_event(event):
    """Settle by a verified webhook event; False when it is about no payment known here
    (it changes nothing)."""
    purpose = payment_purposes.purpose_of(event.payment_id)
    if purpose is None or purpose[0] not in HANDLERS:
        return False
    handler = HANDLERS[purpose[0]]
    if event.type == PAYMENT_SUCCEEDED:
        handler.succeeded(purpose[1], event.payment_id)
    elif event.type == PAYMENT_FAILED:
        handler.failed(purpose[1], event.failure_reason, payment_id=event.payment_id)
    elif event.type == PAYMENT_REFUNDED:
        handler.refunded(purpose[1], event.payment_id)
    return True


# For the other kinds' handlers (services.payments.subscription_payments): the ledger's
# entries written the same way, from any document with creator_id, user_id, item, currency
# and amount.
entry = _entry
sale = _sale
