"""Paying for a subscription's periods: the charge of period ``n`` and what settling it does.

Each period is its own payment, charged with the provider idempotency key
``subscription:<id>:period:<n>`` (period 0 is the first, made by ``POST /subscriptions``; a
renewal is ``n = period + 1``). Whoever charges period ``n`` (the request, its retry, two
renewal sweeps at once) reaches the same payment: charged once. The subscription keeps which
payment pays which period (``periods``), and the payment its purpose (models.payment), so a
webhook about any of them is settled here (registered in services.payments.settlement).

Settling, like a purchase's: the ledger's sale entry first (``_id`` from the payment id: one
per period), then the status by a conditional update: ``pending -> active`` for period 0
(its end ``SUBSCRIPTION_PERIOD_DAYS`` after now), ``period n-1 -> n`` for a renewal (its end
that many days after the previous end). Of two settlements, one moves it.
"""

import logging
from datetime import timedelta

from flask import current_app

from models import ledger
from models import payment as payment_purposes
from models import subscription as subscriptions
from models.common import utcnow
from models.vocabulary import SUBSCRIPTION_ITEM
from services import money
from services.payments import settlement

log = logging.getLogger(__name__)

PAYMENT_FAILED = "payment_failed"
RENEWAL_FAILED = "renewal_failed"
REFUNDED = "refunded"


def idempotency_key(subscription_id, number, action="charge"):
    return f"subscription:{subscription_id}:period:{number}:{action}"


def period_length():
    return timedelta(days=current_app.config["SUBSCRIPTION_PERIOD_DAYS"])


def charge_period(provider, subscription, number, period_end=None):
    """The provider's Charge for period ``number`` of ``subscription``, recorded (its
    purpose, its period). Raises the provider's errors."""
    result = provider.charge(
        amount=subscription["amount"],
        currency=subscription["currency"],
        payment_method=subscription["payment_method"],
        idempotency_key=idempotency_key(subscription["_id"], number),
        metadata={
            "purpose": settlement.SUBSCRIPTION,
            "subscription_id": str(subscription["_id"]),
            "user_id": str(subscription["user_id"]),
            "period": str(number),
        },
    )
    now = utcnow()
    payment_purposes.record(
        result.payment_id, provider.name, settlement.SUBSCRIPTION, subscription["_id"], now
    )
    subscriptions.add_period(subscription["_id"], number, result.payment_id, period_end)
    if number == 0:
        subscriptions.set_first_payment(subscription["_id"], result.payment_id)
    return result


def _paid_for(subscription):
    """The subscription as the ledger's entries name it."""
    return {
        **subscription,
        "item": {"type": SUBSCRIPTION_ITEM, "id": subscription["_id"]},
    }


def _unwanted(status, period, payment_id):
    """A period's payment that succeeded after its subscription ended or failed, and was
    never settled (no sale entry): nothing was bought with it."""
    ended = status in (subscriptions.ENDED, subscriptions.FAILED)
    return period is not None and ended and ledger.find(payment_id, ledger.SALE) is None


def _in_flight(subscription_id, payment_id):
    """Whether ``payment_id`` pays the period the subscription is waiting for."""
    subscription = subscriptions.find(subscription_id)
    period = subscription and subscriptions.period_paid_by(subscription, payment_id)
    if not period:
        return False
    if subscription["status"] == subscriptions.PENDING:
        return period["number"] == 0
    return period["number"] == subscription.get("period", 0) + 1


class SubscriptionSettlement:
    """A subscription's period payments (registered for purpose type ``subscription``)."""

    @staticmethod
    def succeeded(subscription_id, payment_id):
        subscription = subscriptions.find(subscription_id)
        period = subscription and subscriptions.period_paid_by(subscription, payment_id)
        status = subscription and subscription["status"]
        if _unwanted(status, period, payment_id):
            key = idempotency_key(subscription_id, period["number"], "refund")
            return settlement.give_back(payment_id, key, f"subscription {subscription_id}")
        if period is None or status not in (subscriptions.PENDING, subscriptions.ACTIVE):
            log.error(
                "payment %s succeeded for subscription %s, which is %s",
                payment_id,
                subscription_id,
                status,
            )
            return False
        now = utcnow()
        number = period["number"]
        if status == subscriptions.PENDING and number == 0:
            settlement.sale(_paid_for(subscription), payment_id, now)
            return subscriptions.activate(subscription_id, payment_id, now + period_length(), now)
        if status == subscriptions.ACTIVE and number == subscription.get("period", 0) + 1:
            settlement.sale(_paid_for(subscription), payment_id, now)
            return subscriptions.advance(subscription_id, number, payment_id, period["end"])
        return False  # settled already

    @staticmethod
    def failed(subscription_id, reason, payment_id=None):
        """The first payment failed: ``failed``; a renewal's: ``ended``. Access ends.

        A webhook names its payment: only the one being charged now (the first, or the next
        period's) may end the subscription; a late word on a settled or superseded period's
        payment changes nothing."""
        if payment_id is not None and not _in_flight(subscription_id, payment_id):
            return False
        reason = reason or "The payment failed."
        now = utcnow()
        first = subscriptions.end(
            subscription_id,
            PAYMENT_FAILED,
            now,
            statuses=(subscriptions.PENDING,),
            status=subscriptions.FAILED,
            failure_reason=reason,
        )
        return first or subscriptions.end(
            subscription_id, RENEWAL_FAILED, now, failure_reason=reason
        )

    @staticmethod
    def refunded(subscription_id, payment_id):
        """A period's payment given back: the ledger's refund entry (its sale negated);
        when it paid the current period, the subscription ends now."""
        subscription = subscriptions.find(subscription_id)
        if subscription is None or ledger.find(payment_id, ledger.SALE) is None:
            return False
        now = utcnow()
        sale = ledger.find(payment_id, ledger.SALE)
        amounts = {name: sale[name] for name in ledger.AMOUNTS}
        refund = settlement.entry(
            ledger.REFUND, _paid_for(subscription), payment_id, money.reversed_amounts(amounts), now
        )
        ledger.append(refund)
        if subscription.get("payment_id") != payment_id:
            return False
        return subscriptions.end(subscription_id, REFUNDED, now, refunded_at=now)


settlement.register(settlement.SUBSCRIPTION, SubscriptionSettlement)
