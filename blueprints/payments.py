"""Payments: one-time purchases, refunds, the provider's webhook, the sandbox's bank.

See docs/payments.md: the money's path, Idempotency-Key, test cards, reconciliation.
"""

from flask import current_app, request

from blueprints.schemas.payments import (
    PurchaseEnvelopeSchema,
    PurchaseListArgs,
    PurchaseListSchema,
    PurchaseRequestSchema,
    SandboxPaymentEnvelopeSchema,
    WebhookReceiptSchema,
)
from services import access, idempotency, purchases
from services.payments import webhooks
from web.api import ApiBlueprint
from web.guards import auth_required, current_caller

blp = ApiBlueprint("payments", __name__, description="Purchases, refunds and payment webhooks")

# Exactly one of them (PurchaseRequestSchema.one_item), which the fields cannot say.
api_one_item = {"oneOf": [{"required": ["video_id"]}, {"required": ["course_id"]}]}


@blp.record_once
def document_one_item(state):
    api = state.app.extensions["flask-smorest"]["blp_name_to_api"][blp.name]
    api.spec.components.schema("PurchaseRequest", api_one_item, schema=PurchaseRequestSchema)


NOT_CONFIGURED = "Payments are not configured on this server (code payments_not_configured)"
IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": idempotency.HEADER,
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH},
    "description": "A unique string per purchase: a retry with it returns the first answer "
    "and never charges twice",
}
SIGNATURE_PARAMETER = {
    "in": "header",
    "name": webhooks.SIGNATURE_HEADER,
    "required": True,
    "schema": {"type": "string"},
    "description": "t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<body>'>",
}


@blp.route("/purchases", methods=["POST"])
@auth_required()
@blp.doc(parameters=[IDEMPOTENCY_KEY_PARAMETER])
@blp.arguments(PurchaseRequestSchema)
@blp.response(201, PurchaseEnvelopeSchema)
@blp.alt_response(
    400,
    description="Invalid fields, no or bad Idempotency-Key "
    "(idempotency_key_required), invalid_payment_method, not_for_sale",
)
@blp.alt_response(402, description="The payment was declined (payment_failed; reason in error)")
@blp.alt_response(404, description="No such video or course (or one the caller may not see)")
@blp.alt_response(
    409,
    description="already_owned, purchase_pending, own_item, video_not_ready, "
    "idempotency_in_progress",
)
@blp.alt_response(
    422, description="The Idempotency-Key was used for another request (idempotency_key_reused)"
)
@blp.alt_response(
    503,
    description=NOT_CONFIGURED + "; or the provider is unreachable "
    "(payment_provider_unavailable: the purchase stays pending)",
)
def create_purchase(fields):
    """Buy a paid video or a priced course (``Idempotency-Key`` required)."""
    fingerprint = idempotency.fingerprint(request.method, request.path, request.get_data())
    key = request.headers.get(idempotency.HEADER)
    status, body = purchases.buy(current_caller(), fields, key, fingerprint)
    return body, status


@blp.route("/me/purchases", methods=["GET"])
@auth_required()
@blp.arguments(PurchaseListArgs, location="query")
@blp.response(200, PurchaseListSchema)
@blp.alt_response(400, description="Invalid cursor (invalid_cursor)")
def my_purchases(args):
    """The caller's purchases, newest first (cursor-paginated)."""
    found, pagination = purchases.listing(current_caller(), args["per_page"], args.get("cursor"))
    return {"purchases": found, "pagination": pagination}


@blp.route("/purchases/<objectid:purchase_id>/refund", methods=["POST"])
@auth_required(access.require_admin)
@blp.response(200, PurchaseEnvelopeSchema)
@blp.alt_response(404, description="No such purchase")
@blp.alt_response(409, description="Not a succeeded purchase (not_refundable)")
@blp.alt_response(503, description=NOT_CONFIGURED + "; or the provider is unreachable")
def refund_purchase(purchase_id):
    """Refund a purchase (admins): the money back, access ends, the ledger reversed."""
    return {"purchase": purchases.refund(purchase_id)}


@blp.route("/payments/webhook", methods=["POST"])
@blp.doc(parameters=[SIGNATURE_PARAMETER], security=[])
@blp.response(200, WebhookReceiptSchema)
@blp.alt_response(400, description="Unsigned, forged or too old (invalid_signature)")
@blp.alt_response(503, description=NOT_CONFIGURED)
def webhook():
    """The payment provider's signed events (no auth: the signature is the proof)."""
    signature = request.headers.get(webhooks.SIGNATURE_HEADER)
    return webhooks.receive(request.get_data(), signature)


@blp.route("/payments/sandbox/<payment_id>/authenticate", methods=["POST"])
@blp.response(200, SandboxPaymentEnvelopeSchema)
@blp.alt_response(404, description="No such sandbox payment; always in production")
@blp.alt_response(409, description="The payment is not waiting for authentication")
@blp.alt_response(503, description=NOT_CONFIGURED)
def sandbox_authenticate(payment_id):
    """The bank's part of a payment that needs authentication (sandbox, development and
    testing only): it succeeds, and the sandbox sends its ``payment.succeeded`` webhook."""
    return purchases.sandbox_authenticate(current_app.config["APP_ENV"], payment_id)
