"""Purchases, refunds, webhooks and the sandbox's bank."""

import marshmallow as ma
from marshmallow import validate

from blueprints.schemas.common import (
    ItemList,
    ObjectIdString,
    PaginationArgs,
    PaginationSchema,
    StrictSchema,
    UtcDateTime,
)
from models.common import OBJECT_ID_HEX

ID_PATTERN = validate.Regexp(f"^{OBJECT_ID_HEX}$", error="Not a valid id.")


class PurchaseRequestSchema(StrictSchema):
    video_id = ma.fields.String(
        validate=ID_PATTERN, metadata={"description": "Exactly one of video_id and course_id"}
    )
    course_id = ma.fields.String(validate=ID_PATTERN)
    payment_method = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=255),
        metadata={
            "description": "The provider's payment method id (sandbox: pm_card_visa, "
            "pm_card_chargeDeclined, pm_card_authenticationRequired)"
        },
    )

    @ma.validates_schema
    def one_item(self, data, **kwargs):
        if ("video_id" in data) == ("course_id" in data):
            message = "Give exactly one of video_id and course_id."
            raise ma.ValidationError({"video_id": [message]})


class ItemSchema(ma.Schema):
    type = ma.fields.String(required=True, metadata={"enum": ["video", "course"]})
    id = ObjectIdString(required=True)


class PurchaseSchema(ma.Schema):
    id = ObjectIdString(attribute="_id", required=True)
    status = ma.fields.String(
        required=True, metadata={"enum": ["pending", "succeeded", "failed", "refunded"]}
    )
    item = ma.fields.Nested(ItemSchema, required=True)
    amount = ma.fields.Integer(required=True, metadata={"description": "Minor units (cents)"})
    currency = ma.fields.String(required=True)
    payment_id = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The provider's payment (to authenticate while pending; null "
            "before the provider answered)"
        },
    )
    created_at = UtcDateTime(required=True)
    settled_at = UtcDateTime(allow_none=True)
    refunded_at = UtcDateTime(allow_none=True)
    failure_reason = ma.fields.String(allow_none=True)


class PurchaseEnvelopeSchema(ma.Schema):
    purchase = ma.fields.Nested(PurchaseSchema, required=True)


class PurchaseListSchema(ma.Schema):
    purchases = ItemList(ma.fields.Nested(PurchaseSchema), required=True)
    pagination = ma.fields.Nested(PaginationSchema, required=True)


class PurchaseListArgs(PaginationArgs):
    pass


class WebhookReceiptSchema(ma.Schema):
    received = ma.fields.Boolean(required=True)
    outcome = ma.fields.String(
        required=True, metadata={"enum": ["processed", "duplicate", "ignored"]}
    )
    event_id = ma.fields.String(allow_none=True)


class SandboxPaymentSchema(ma.Schema):
    id = ma.fields.String(required=True)
    status = ma.fields.String(required=True)


class SandboxPaymentEnvelopeSchema(ma.Schema):
    payment = ma.fields.Nested(SandboxPaymentSchema, required=True)
