"""Subscription plans and the money reports (docs/earnings.md)."""

import marshmallow as ma
from marshmallow import validate

from blueprints.schemas.common import StrictSchema
from models.vocabulary import COURSE_ITEM, SUBSCRIPTION_ITEM, VIDEO_ITEM

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


class PlanRequestSchema(StrictSchema):
    # Raw, so that services.money.check_price sees what was sent and refuses 9.99, 10.0,
    # true and "100" with its own sentence (code invalid_price), not a generic type error.
    price = ma.fields.Raw(
        required=True,
        metadata={
            "type": "integer",
            "minimum": 1,
            "description": "Monthly price in the currency's minor unit (cents), "
            "1 to MAX_PRICE (default 100000); a float such as 9.99 or 10.0 is refused",
        },
    )
    currency = ma.fields.Raw(
        load_default=None,
        metadata={
            "type": "string",
            "description": "Optional; if given, must be the platform's currency (ISO 4217)",
        },
    )


class PlanSchema(ma.Schema):
    price = ma.fields.Integer(required=True, metadata={"description": "Minor units (cents)"})
    currency = ma.fields.String(required=True)


class PlanEnvelopeSchema(ma.Schema):
    plan = ma.fields.Nested(PlanSchema, required=True)


class PeriodArgs(StrictSchema):
    first_month = ma.fields.String(
        data_key="from",
        validate=validate.Regexp(MONTH_PATTERN, error="A month is written YYYY-MM."),
        metadata={"description": "First month included, YYYY-MM"},
    )
    last_month = ma.fields.String(
        data_key="to",
        validate=validate.Regexp(MONTH_PATTERN, error="A month is written YYYY-MM."),
        metadata={"description": "Last month included, YYYY-MM (not before `from`)"},
    )


class AmountsSchema(ma.Schema):
    """Integer minor units; refunds count negative, so any of them may be below zero."""

    gross = ma.fields.Integer(required=True)
    creator_share = ma.fields.Integer(
        required=True, metadata={"description": "floor(gross x 80 / 100) per sale"}
    )
    platform_share = ma.fields.Integer(
        required=True, metadata={"description": "gross - creator_share per sale"}
    )


class MonthAmountsSchema(AmountsSchema):
    month = ma.fields.String(required=True, metadata={"description": "YYYY-MM (UTC)"})


class ItemAmountsSchema(AmountsSchema):
    type = ma.fields.String(
        required=True, validate=validate.OneOf([VIDEO_ITEM, COURSE_ITEM, SUBSCRIPTION_ITEM])
    )
    id = ma.fields.String(required=True, allow_none=True)


class CreatorAmountsSchema(AmountsSchema):
    creator_id = ma.fields.String(required=True, allow_none=True)


class EarningsSchema(ma.Schema):
    currency = ma.fields.String(required=True)
    totals = ma.fields.Nested(AmountsSchema, required=True)
    by_month = ma.fields.List(
        ma.fields.Nested(MonthAmountsSchema), required=True, metadata={"description": "Ascending"}
    )
    by_item = ma.fields.List(
        ma.fields.Nested(ItemAmountsSchema),
        required=True,
        metadata={"description": "Gross descending, then id"},
    )


class RevenueSchema(ma.Schema):
    currency = ma.fields.String(required=True)
    totals = ma.fields.Nested(AmountsSchema, required=True)
    by_creator = ma.fields.List(
        ma.fields.Nested(CreatorAmountsSchema),
        required=True,
        metadata={"description": "Gross descending, then creator_id"},
    )
    by_month = ma.fields.List(
        ma.fields.Nested(MonthAmountsSchema), required=True, metadata={"description": "Ascending"}
    )
