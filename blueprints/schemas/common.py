"""Fields and schemas every area uses."""

import math
from datetime import UTC

import marshmallow as ma
from marshmallow import validate

from models.common import as_utc
from services.pagination import built_items

MAX_PER_PAGE = 100
MAX_CURSOR_LENGTH = 500


class StrictSchema(ma.Schema):
    """Unknown fields are a 400, consistently (docs/conventions.md#invalid-fields)."""

    class Meta:
        unknown = ma.RAISE


class UtcDateTime(ma.fields.DateTime):
    """ISO 8601 in UTC with a ``Z`` (``2026-01-31T12:00:00.000Z``)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        moment = as_utc(value).astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class ObjectIdString(ma.fields.String):
    """An ObjectId on the way out, its 24-hex string form in JSON."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)


class FiniteFloat(ma.fields.Float):
    """A float on the way out, null when it is none (infinity, NaN): JSON has no such
    numbers, and a body with ``Infinity`` in it fails the app's ``JSON.parse`` whole."""

    def _serialize(self, value, attr, obj, **kwargs):
        number = super()._serialize(value, attr, obj, **kwargs)
        return number if number is not None and math.isfinite(number) else None


class ItemList(ma.fields.List):
    """The items of a list body, dumped one by one: one that cannot be (a document stored
    with a corrupt field) is logged with its id and left out, and the page is still 200."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return built_items(value, lambda item: self.inner._serialize(item, attr, obj, **kwargs))


class PaginationArgs(StrictSchema):
    per_page = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))
    cursor = ma.fields.String(
        validate=validate.Length(min=1, max=MAX_CURSOR_LENGTH),
        metadata={
            "description": "The previous page's `pagination.next_cursor`, as it was given "
            "(opaque; bound to this list and its filters)"
        },
    )


class PaginationSchema(ma.Schema):
    """Keyset pagination: no total (it would cost a scan); follow ``next_cursor``."""

    per_page = ma.fields.Integer(required=True)
    next_cursor = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "null on the last page"}
    )
    has_more = ma.fields.Boolean(required=True)


class MessageSchema(ma.Schema):
    message = ma.fields.String(required=True)
