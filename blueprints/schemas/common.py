"""Fields and schemas every area uses."""

from datetime import UTC

import marshmallow as ma
from marshmallow import validate

from models.common import as_utc

MAX_PER_PAGE = 100


class StrictSchema(ma.Schema):
    """Unknown fields are a 400, consistently (SPEC.md, Conventions)."""

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


class PaginationArgs(StrictSchema):
    page = ma.fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = ma.fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class PaginationSchema(ma.Schema):
    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)
    pages = ma.fields.Integer(required=True)


class MessageSchema(ma.Schema):
    message = ma.fields.String(required=True)
