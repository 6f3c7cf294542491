"""The payment machinery's background work in each process: the sandbox's webhook
deliverer, and the reconciliation sweep.

Reconciliation: a purchase still pending ``RECONCILE_AFTER`` after it was made (the
process died between the charge and the ledger, the database was away, a webhook was
lost) is settled by the provider's word: ``retrieve`` its payment, or, when the purchase
never learnt its payment id, charge again with the purchase's own idempotency key (which
returns the first payment if there was one; never a second charge). Succeeded: the ledger
entry and ``succeeded``; failed: ``failed``; still pending (the buyer has not
authenticated): left for the next sweep. Every step is idempotent (services.payments.
settlement), so no lease is needed: two processes sweeping at once write one result.
"""

import logging
from datetime import timedelta

from models import purchase as purchases
from models.common import utcnow
from services.payments import charging, factory, settlement
from services.payments.provider import (
    PENDING,
    InvalidPaymentMethod,
    PaymentDeclined,
    ProviderUnavailable,
)
from services.payments.webhook_delivery import WebhookDeliverer
from services.sweeper import Sweeper

log = logging.getLogger(__name__)

RECONCILE_SECONDS = 60
RECONCILE_AFTER = timedelta(minutes=2)
PAGE = 50


class PaymentJobs:
    def __init__(self, app):
        self.app = app
        self.deliverer = WebhookDeliverer(app)
        self._sweeper = Sweeper("payment-reconcile", RECONCILE_SECONDS, self.reconcile)

    def reconcile(self, older_than=RECONCILE_AFTER):
        """Settle the purchases pending longer than ``older_than``; how many were looked at."""
        with self.app.app_context():
            if not factory.configured():
                return 0
            provider = factory.provider()
            looked, after = 0, None
            while True:  # every stale purchase, page by page: none starves the others
                stale = purchases.stale_pending(utcnow() - older_than, PAGE, after)
                for purchase in stale:
                    try:
                        reconcile_purchase(provider, purchase)
                    except ProviderUnavailable:
                        log.warning("reconciling purchase %s: provider away", purchase["_id"])
                looked += len(stale)
                if len(stale) < PAGE:
                    return looked
                after = (stale[-1]["created_at"], stale[-1]["_id"])

    def start(self):
        if self.app.config.get("PAYMENT_PROVIDER") == "sandbox":
            self.deliverer.start()
        self._sweeper.start()

    def stop(self):
        self._sweeper.stop()
        self.deliverer.stop()


def reconcile_purchase(provider, purchase):
    """The provider's word on a stale pending purchase (charging.charge: its known payment
    retrieved, or the charge asked again with its key); still waiting for the bank after
    ``GIVE_UP_AFTER``: failed (a late success is refunded)."""
    try:
        charge = charging.charge(provider, purchase)
    except (PaymentDeclined, InvalidPaymentMethod) as error:
        reason = getattr(error, "reason", None) or str(error)
        return settlement.PurchaseSettlement.failed(purchase["_id"], reason)
    if charge.status == PENDING and charging.age(purchase) > charging.GIVE_UP_AFTER:
        return settlement.PurchaseSettlement.failed(purchase["_id"], charging.NOT_AUTHENTICATED)
    return settlement.apply_charge(settlement.PURCHASE, purchase["_id"], charge)
