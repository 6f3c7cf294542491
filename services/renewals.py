"""The renewal job: every ``RENEW_SECONDS`` each API process renews the subscriptions whose
paid period ends within ``RENEW_AHEAD`` (models.subscription ``due``), and settles the first
payments left pending (the process died between the charge and the ledger).

For each due subscription:

* ``cancel_at_period_end`` -> ``ended`` (``holding`` dropped): access ends;
* otherwise period ``n = period + 1`` is charged with the stored payment method and the
  provider key ``subscription:<id>:period:<n>:charge``. Succeeded: the ledger's sale entry
  and the period moved on, its end ``SUBSCRIPTION_PERIOD_DAYS`` after the previous end (not
  after now); declined: ``ended`` with the provider's reason; pending (the bank wants the
  subscriber to authenticate, which nobody is there to do): ``ended`` too, reason
  ``RENEWAL_NEEDS_AUTHENTICATION``; not charged within ``charging.KEY_LIFETIME`` of the
  period's end (the provider away all that time): ``ended`` without a charge, since the
  provider may have forgotten the period's key.

No lease is needed: it is idempotent. Two processes renewing one subscription at once charge
the same key (the provider returns the first payment: one charge), write the ledger entry
under one ``_id`` (one entry), and move the period by a conditional update on its number
(one moves it). A cancel during a renewal applies to the new period.
"""

import logging
from datetime import timedelta

from models import subscription as subscriptions
from models.common import as_utc, utcnow
from services.payments import charging, factory, settlement
from services.payments import subscription_payments as payments
from services.payments.provider import (
    PENDING,
    InvalidPaymentMethod,
    PaymentDeclined,
    ProviderUnavailable,
)
from services.sweeper import Sweeper

log = logging.getLogger(__name__)

RENEW_SECONDS = 60
# Renewals are charged this long before the period ends (two sweeps), so a paying subscriber
# never loses access between the end and the next sweep. A cancelled one ends at the end.
RENEW_AHEAD = timedelta(seconds=2 * RENEW_SECONDS)
RECONCILE_AFTER = timedelta(minutes=2)
RENEWAL_NEEDS_AUTHENTICATION = (
    "The renewal needs the subscriber's authentication at the bank; subscribe again."
)
RENEWAL_OVERDUE = (
    "The renewal could not be charged in time; nothing more is charged. Subscribe again."
)


class Renewals:
    """The renewal sweep of one process (started by app.py next to the payment jobs)."""

    def __init__(self, app):
        self.app = app
        self._sweeper = Sweeper("subscription-renewals", RENEW_SECONDS, self.run)

    def run(self, now=None):
        """Renew what is due at ``now``; how many subscriptions were looked at."""
        with self.app.app_context():
            if not factory.configured():
                return 0
            return renew_due(factory.provider(), now or utcnow())

    def start(self):
        self._sweeper.start()

    def stop(self):
        self._sweeper.stop()


def renew_due(provider, now):
    due = subscriptions.due(now + RENEW_AHEAD)
    for subscription in due:
        try:
            renew(provider, subscription, now)
        except ProviderUnavailable:
            log.warning("renewing subscription %s: provider unavailable", subscription["_id"])
    stale = subscriptions.stale_pending(now - RECONCILE_AFTER)
    for subscription in stale:
        try:
            reconcile_first(provider, subscription, now)
        except ProviderUnavailable:
            log.warning("reconciling subscription %s: provider unavailable", subscription["_id"])
    return len(due) + len(stale)


def renew(provider, subscription, now):
    """One due subscription: ended (cancelled), or its next period charged and settled."""
    subscription_id = subscription["_id"]
    if subscription["cancel_at_period_end"]:
        if as_utc(subscription["current_period_end"]) > now:
            return False  # paid until its end: access lasts until then
        return subscriptions.end(subscription_id, "cancelled", now)
    if now - as_utc(subscription["current_period_end"]) > charging.KEY_LIFETIME:
        # The provider (away since) may have forgotten this period's key: charging it now
        # could charge twice. It ends, uncharged; a payment made but never recorded is for a
        # person to find at the provider.
        log.error("subscription %s: renewal overdue, ended without a charge", subscription_id)
        return payments.SubscriptionSettlement.failed(subscription_id, RENEWAL_OVERDUE)
    number = subscription["period"] + 1
    period_end = as_utc(subscription["current_period_end"]) + payments.period_length()
    try:
        charge = payments.charge_period(provider, subscription, number, period_end)
    except (PaymentDeclined, InvalidPaymentMethod) as error:
        reason = getattr(error, "reason", None) or str(error)
        return payments.SubscriptionSettlement.failed(subscription_id, reason)
    if charge.status == PENDING:
        return payments.SubscriptionSettlement.failed(subscription_id, RENEWAL_NEEDS_AUTHENTICATION)
    return settlement.apply_charge(settlement.SUBSCRIPTION, subscription_id, charge)


def reconcile_first(provider, subscription, now):
    """A first payment left pending: the provider's word on it, as for a purchase
    (services.payments.charging): a known payment retrieved, never charged again; one
    never learnt charged again with period 0's key only while the provider keeps keys;
    still waiting for the bank after ``GIVE_UP_AFTER``: failed (a late success is refunded)."""
    age = charging.age(subscription, now)
    try:
        if subscription.get("payment_id"):
            charge = provider.retrieve(subscription["payment_id"])
        elif age > charging.KEY_LIFETIME:
            raise PaymentDeclined(charging.NOT_CONFIRMED)
        else:
            charge = payments.charge_period(provider, subscription, 0)
    except (PaymentDeclined, InvalidPaymentMethod) as error:
        reason = getattr(error, "reason", None) or str(error)
        return payments.SubscriptionSettlement.failed(subscription["_id"], reason)
    if charge.status == PENDING and age > charging.GIVE_UP_AFTER:
        reason = charging.NOT_AUTHENTICATED
        return payments.SubscriptionSettlement.failed(subscription["_id"], reason)
    return settlement.apply_charge(settlement.SUBSCRIPTION, subscription["_id"], charge)
