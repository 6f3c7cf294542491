"""Subscriptions to a creator: subscribe, cancel, list, refund (admins).

See docs/payments.md#subscriptions: states, renewal, cancel, failures.
"""

from flask import request

from blueprints.payments import IDEMPOTENCY_KEY_PARAMETER, NOT_CONFIGURED
from blueprints.schemas.subscriptions import (
    SubscriptionEnvelopeSchema,
    SubscriptionListArgs,
    SubscriptionListSchema,
    SubscriptionRequestSchema,
)
from services import access, idempotency, subscriptions
from web.api import ApiBlueprint
from web.guards import auth_required, current_caller

blp = ApiBlueprint("subscriptions", __name__, description="Subscriptions to creators")


@blp.route("/subscriptions", methods=["POST"])
@auth_required()
@blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
@blp.arguments(SubscriptionRequestSchema)
@blp.response(201, SubscriptionEnvelopeSchema)
@blp.alt_response(
    400,
    description="Invalid fields, no or bad Idempotency-Key (idempotency_key_required, "
    "invalid_idempotency_key), invalid_payment_method",
)
@blp.alt_response(402, description="The payment was declined (payment_failed; reason in error)")
@blp.alt_response(404, description="No such creator (creator_not_found)")
@blp.alt_response(
    409,
    description="own_item, no_plan (the creator sells no subscription), already_subscribed, "
    "subscription_pending, idempotency_in_progress",
)
@blp.alt_response(
    422, description="The Idempotency-Key was used for another request (idempotency_key_reused)"
)
@blp.alt_response(
    503,
    description=NOT_CONFIGURED + "; or the provider is unreachable "
    "(payment_provider_unavailable: the subscription stays pending)",
)
def create_subscription(fields):
    """Subscribe to a creator at their plan's price (``Idempotency-Key`` required)."""
    fingerprint = idempotency.fingerprint(request.method, request.path, request.get_data())
    key = request.headers.get(idempotency.HEADER)
    status, body = subscriptions.subscribe(current_caller(), fields, key, fingerprint)
    return body, status


@blp.route("/subscriptions/<objectid:subscription_id>", methods=["DELETE"])
@auth_required()
@blp.response(200, SubscriptionEnvelopeSchema)
@blp.alt_response(404, description="No such subscription of the caller")
def cancel_subscription(subscription_id):
    """Cancel: an active one ends at the end of the paid period (access until then), a
    pending one now. Cancelling again answers the same (200)."""
    return {"subscription": subscriptions.cancel(current_caller(), subscription_id)}


@blp.route("/me/subscriptions", methods=["GET"])
@auth_required()
@blp.arguments(SubscriptionListArgs, location="query")
@blp.response(200, SubscriptionListSchema)
@blp.alt_response(400, description="Invalid cursor (invalid_cursor)")
def my_subscriptions(args):
    """The caller's subscriptions, newest first (cursor-paginated)."""
    found, pagination = subscriptions.listing(
        current_caller(), args["per_page"], args.get("cursor")
    )
    return {"subscriptions": found, "pagination": pagination}


@blp.route("/subscriptions/<objectid:subscription_id>/refund", methods=["POST"])
@auth_required(access.require_admin)
@blp.response(200, SubscriptionEnvelopeSchema)
@blp.alt_response(404, description="No such subscription")
@blp.alt_response(409, description="Not an active subscription (not_refundable)")
@blp.alt_response(503, description=NOT_CONFIGURED + "; or the provider is unreachable")
def refund_subscription(subscription_id):
    """Refund a subscription's latest period (admins): access ends now, ledger reversed."""
    return {"subscription": subscriptions.refund(subscription_id)}
