"""Subscriptions to a creator."""

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
from blueprints.schemas.payments import ID_PATTERN


class SubscriptionRequestSchema(StrictSchema):
    creator_id = ma.fields.String(required=True, validate=ID_PATTERN)
    payment_method = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=255),
        metadata={
            "description": "The provider's payment method id, kept for the renewals (sandbox: "
            "pm_card_visa, pm_card_chargeDeclined, pm_card_authenticationRequired)"
        },
    )


class SubscriptionSchema(ma.Schema):
    id = ObjectIdString(attribute="_id", required=True)
    creator_id = ObjectIdString(required=True)
    status = ma.fields.String(
        required=True, metadata={"enum": ["pending", "active", "ended", "failed"]}
    )
    current_period_end = UtcDateTime(
        required=True,
        allow_none=True,
        metadata={"description": "Access until then (null while pending)"},
    )
    amount = ma.fields.Integer(
        required=True, metadata={"description": "Per period, minor units (cents)"}
    )
    currency = ma.fields.String(required=True)
    cancel_at_period_end = ma.fields.Boolean(required=True)
    payment_id = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "The provider's payment of the latest period (the one to "
            "authenticate while pending)"
        },
    )
    created_at = UtcDateTime(required=True)
    ended_at = UtcDateTime(allow_none=True)
    ended_reason = ma.fields.String(allow_none=True)
    failure_reason = ma.fields.String(allow_none=True)


class SubscriptionEnvelopeSchema(ma.Schema):
    subscription = ma.fields.Nested(SubscriptionSchema, required=True)


class SubscriptionListSchema(ma.Schema):
    subscriptions = ItemList(ma.fields.Nested(SubscriptionSchema), required=True)
    pagination = ma.fields.Nested(PaginationSchema, required=True)


class SubscriptionListArgs(PaginationArgs):
    pass
