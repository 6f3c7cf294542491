"""A video's access level and price as requests send them (docs/videos.md#access-and-price)."""

import re

import marshmallow as ma
from marshmallow import validate

from models.vocabulary import ACCESS_LEVELS, PAID

ACCESS_DOC = (
    "Who may watch it: `free` (anyone who may see it), `paid` (a buyer of the video or of a "
    "priced course containing it), `subscribers` (an active subscriber of its creator)"
)
PRICE_IN_DOC = (
    "Minor units (cents) of the platform currency, a whole number from 1 to MAX_PRICE: "
    "required with `access: paid`, refused otherwise (a subscribers' video takes its "
    "creator's plan price)"
)


PRICE_IN = {"type": "integer", "minimum": 1, "description": PRICE_IN_DOC}
NOT_PAID = {"access": {"enum": [level for level in ACCESS_LEVELS if level != PAID]}}


def price_rules(max_price, upload):
    """What OpenAPI says of ``access`` and ``price`` together, beyond each field: a price
    only with ``paid`` (and, at upload, where ``access`` defaults to free, ``paid`` only with
    a price), and MAX_PRICE. An edit's price alone, or ``paid`` alone, depends on the
    video's current level: 409 when it does not fit (services.library.access_fields).

    The upload's rule is two shapes (``anyOf``) rather than a ``not``: schemathesis cannot
    check a ``not`` against a body with a binary file part in it.
    """
    at_most = {"properties": {"price": {"maximum": max_price}}}
    if not upload:
        no_price_here = {"not": {"required": ["access", "price"], "properties": NOT_PAID}}
        return {"allOf": [at_most, no_price_here]}
    paid = {"required": ["access", "price"], "properties": {"access": {"enum": [PAID]}}}
    no_price = {"properties": {**NOT_PAID, "price": NO_VALUE}}
    return {"allOf": [at_most], "anyOf": [paid, no_price]}


# No integer is both: a property that must be absent, written without ``not``.
NO_VALUE = {"type": "integer", "minimum": 1, "maximum": 0}


WHOLE_NUMBER = re.compile(r"-?[0-9]{1,30}")


class MultipartPrice(ma.fields.Raw):
    """A multipart ``price``: text, so a string of ASCII digits becomes its int and anything
    else ("9.99", "10.0", "true") stays as sent, for services.money.check_price to refuse
    with the same 400 as a JSON one."""

    def __init__(self, **kwargs):
        super().__init__(metadata=PRICE_IN, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and WHOLE_NUMBER.fullmatch(value):
            return int(value)
        return value


def access_field(**kwargs):
    return ma.fields.String(
        validate=validate.OneOf(ACCESS_LEVELS), metadata={"description": ACCESS_DOC}, **kwargs
    )


def money_rules(max_price, currency):
    """What OpenAPI says of a course's or a plan's ``price`` and ``currency`` beyond each
    field: at most this app's MAX_PRICE, and only the platform's CURRENCY, in either case
    (services.money: check_price, check_currency)."""
    either_case = "".join(f"[{letter.upper()}{letter.lower()}]" for letter in currency)
    properties = {"price": {"maximum": max_price}, "currency": {"pattern": f"^{either_case}$"}}
    return {"allOf": [{"properties": properties}]}
