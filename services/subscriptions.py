"""Subscriptions to a creator: ``POST /subscriptions``, ``DELETE /subscriptions/{id}``,
``GET /me/subscriptions`` and the admin's refund. Renewals: services.renewals.

A subscription is made pending first, holding (user, creator) under the unique ``holding``
index (models.subscription: two racing subscribes make one and a 409), then its first period
is charged (services.payments.subscription_payments: the provider key comes from the
subscription id and the period), then settled into the ledger and ``active``. The amount is
the creator's plan price (models.plan); a creator with no plan is 409 ``no_plan``.
See docs/payments.md#subscriptions.
"""

from bson import ObjectId

from models import plan as plans
from models import subscription as subscriptions
from models import user as users
from models.common import object_id, utcnow
from services import access, idempotency, money, pagination
from services.errors import Conflict, NotFound, Unavailable
from services.payments import answers, factory, settlement
from services.payments import subscription_payments as payments
from services.payments.provider import (
    ProviderUnavailable,
)

CANCELLED, CANCELLED_PENDING = "cancelled", "cancelled_while_pending"


def subscribe(caller, fields, key, request_fingerprint):
    """``POST /subscriptions``: (201, {subscription}) once per Idempotency-Key."""
    factory.provider()  # 503 payments_not_configured before anything
    key = idempotency.require_key(key)
    return idempotency.once(
        caller.user["_id"], key, request_fingerprint, lambda: _subscribe(caller, fields, key)
    )


def _subscribe(caller, fields, key):
    provider = factory.provider()
    # A retry of a request that got no answer resumes its subscription (same payment).
    subscription = subscriptions.made_with(caller.user["_id"], key)
    if subscription is not None and not _same_request(subscription, fields):
        raise idempotency.KeyReused(f"This {idempotency.HEADER} was used for another request.")
    if subscription is None:
        creator_id, price = _plan_of(caller, fields["creator_id"])
        subscription = _open(caller, creator_id, price, fields, key, provider)
    _charge_first(provider, subscription)
    return 201, {"subscription": subscriptions.find(subscription["_id"])}


def _charge_first(provider, subscription):
    subscription_id = subscription["_id"]
    answers.charged(
        settlement.SUBSCRIPTION,
        subscription_id,
        lambda: payments.charge_period(provider, subscription, 0),
        discard=lambda: subscriptions.discard(subscription_id),
        fail=lambda reason: payments.SubscriptionSettlement.failed(subscription_id, reason),
        what="subscription",
    )


def _same_request(subscription, fields):
    asked = (str(fields["creator_id"]).lower(), fields["payment_method"])
    return asked == (str(subscription["creator_id"]), subscription["payment_method"])


def _plan_of(caller, creator_id):
    """(creator id, monthly price): 404 for no such creator, 409 for oneself or no plan."""
    creator = users.find_by_id(object_id(creator_id))
    if creator is None or creator.get("role") not in access.UPLOADERS:
        raise NotFound("No such creator.", code="creator_not_found")
    if creator["_id"] == caller.user["_id"]:
        raise Conflict("You cannot subscribe to yourself.", code="own_item")
    plan = plans.find(creator["_id"])
    if plan is None:
        raise Conflict("This creator offers no subscription.", code="no_plan")
    return creator["_id"], plan["price"]


def _open(caller, creator_id, price, fields, key, provider):
    """The new pending subscription; 409 when the user holds one to the creator already."""
    user_id = caller.user["_id"]
    document = {
        "_id": ObjectId(),
        "user_id": user_id,
        "creator_id": creator_id,
        "amount": price,
        "currency": money.currency(),
        "status": subscriptions.PENDING,
        "cancel_at_period_end": False,
        "current_period_end": None,
        "payment_id": None,
        "provider": provider.name,
        "payment_method": fields["payment_method"],
        "request_key": key,
        "period": None,
        "periods": [],
        "created_at": utcnow(),
        "ended_at": None,
        "holding": subscriptions.holding_key(user_id, creator_id),
    }
    if subscriptions.insert(document) is not None:
        return document
    held = subscriptions.holding(user_id, creator_id)
    if held is None:  # it failed or ended meanwhile: free again
        return _open(caller, creator_id, price, fields, key, provider)
    if held["status"] == subscriptions.ACTIVE:
        raise Conflict("You subscribe to this creator already.", code="already_subscribed")
    raise Conflict("A subscription to this creator is pending.", code="subscription_pending")


def cancel(caller, subscription_id):
    """``DELETE /subscriptions/{id}``: active -> ends at the period's end; pending -> ended
    now. Cancelling again answers the same subscription (200)."""
    subscription = _own(caller, subscription_id)
    if subscription["status"] == subscriptions.PENDING:
        subscriptions.end(
            subscription["_id"], CANCELLED_PENDING, utcnow(), statuses=(subscriptions.PENDING,)
        )
    elif subscription["status"] == subscriptions.ACTIVE:
        subscriptions.cancel_at_period_end(subscription["_id"])
    return subscriptions.find(subscription["_id"])


def _own(caller, subscription_id):
    found = subscriptions.find(object_id(subscription_id))
    if found is None or found["user_id"] != caller.user["_id"]:
        raise NotFound("No such subscription.", code="subscription_not_found")
    return found


def listing(caller, per_page, cursor=None):
    """(subscriptions, pagination) of the caller's subscriptions, newest first."""
    user_id = caller.user["_id"]
    scope = pagination.list_scope("subscriptions", user=str(user_id))

    def read_page(after, window):
        return subscriptions.page_of_user(user_id, per_page, after, window)

    return pagination.list_page(scope, cursor, per_page, read_page)


def refund(subscription_id):
    """``POST /subscriptions/{id}/refund`` (admins): the latest period's payment back, the
    ledger's entry reversed, access ends now. Only an active subscription (409 otherwise)."""
    subscription = subscriptions.find(object_id(subscription_id))
    if subscription is None:
        raise NotFound("No such subscription.", code="subscription_not_found")
    if subscription["status"] != subscriptions.ACTIVE:
        raise Conflict(
            f"Only an active subscription can be refunded; this one is {subscription['status']}.",
            code="not_refundable",
        )
    provider = factory.provider()
    key = payments.idempotency_key(subscription["_id"], subscription["period"], "refund")
    try:
        provider.refund(subscription["payment_id"], idempotency_key=key)
    except ProviderUnavailable as error:
        message = "The payment provider cannot be reached; retry the refund shortly."
        raise Unavailable(message, code="payment_provider_unavailable") from error
    payments.SubscriptionSettlement.refunded(subscription["_id"], subscription["payment_id"])
    return subscriptions.find(subscription["_id"])
