"""The audit log's query (``GET /admin/audit``) and its entries."""

import re
from datetime import UTC, datetime, time, timedelta

import marshmallow as ma
from bson import ObjectId
from marshmallow import validate

from blueprints.schemas.common import (
    ItemList,
    ObjectIdString,
    PaginationArgs,
    PaginationSchema,
    UtcDateTime,
)

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
TARGET = re.compile(r"^([a-z_]{1,50}):([0-9a-f]{24})$")
# What a moment looks like: a date, or a date and time (seconds, their fraction and the
# offset optional). The document states it as this pattern, and only this is parsed: ISO
# 8601's other forms (`20260131`, a space for the `T`) are refused, as a client reading the
# document expects.
MOMENT = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$"
)


class Moment(ma.fields.String):
    """An ISO 8601 date (``2026-01-31``) or datetime (``2026-01-31T12:00:00Z``; no offset means
    UTC), as an aware UTC datetime. ``end_of_day``: a date means the end of that day."""

    def __init__(self, end_of_day=False, metadata=None, **kwargs):
        super().__init__(metadata={"pattern": MOMENT, **(metadata or {})}, **kwargs)
        self.end_of_day = end_of_day

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            if not re.fullmatch(MOMENT, text):
                raise ValueError(text)
            if len(text) == 10:
                day = datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time(), UTC)
                return day + timedelta(days=1) if self.end_of_day else day
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        except (ValueError, OverflowError) as error:  # Overflow: past 9999-12-31 or before 1
            raise ma.ValidationError("Must be an ISO 8601 date or date and time.") from error


class AuditFilterArgs(PaginationArgs):
    actor = ma.fields.String(
        validate=validate.Regexp(OBJECT_ID, error="Must be a user id (24 hex digits)."),
        metadata={"description": "The acting user's id"},
    )
    action = ma.fields.String(
        validate=validate.Regexp(NAME, error="Must be an action name such as video.edit."),
        metadata={"description": "The route's name, e.g. `video.edit`, `auth.login`"},
    )
    target = ma.fields.String(
        validate=validate.Regexp(TARGET, error="Must be type:id, e.g. video:<24 hex digits>."),
        metadata={"description": "`type:id`, e.g. `video:65f0...`; or target_type and target_id"},
    )
    target_type = ma.fields.String(
        validate=validate.Regexp(r"^[a-z_]{1,50}$", error="Must be a type such as video."),
    )
    target_id = ma.fields.String(
        validate=validate.Regexp(OBJECT_ID, error="Must be an id (24 hex digits)."),
    )
    since = Moment(
        data_key="from",
        metadata={
            "description": "From this moment, inclusive: a date (`2026-01-31`: its start) or a "
            "date and time (`2026-01-31T12:00:00Z`; no offset means UTC); before `to`"
        },
    )
    until = Moment(
        end_of_day=True,
        data_key="to",
        metadata={
            "description": "Before this moment: a date (`2026-01-31`: that whole day included) "
            "or a date and time; UTC unless it has an offset"
        },
    )

    @ma.validates_schema
    def target_whole(self, data, **kwargs):
        if "target" in data and ("target_type" in data or "target_id" in data):
            raise ma.ValidationError("Give target, or target_type and target_id.", "target")
        for given, missing in (("target_type", "target_id"), ("target_id", "target_type")):
            if given in data and missing not in data:
                raise ma.ValidationError(f"Needed with {given}.", missing)

    @ma.post_load
    def typed(self, data, **kwargs):
        if "target" in data:
            data["target_type"], data["target_id"] = TARGET.match(data.pop("target")).groups()
        if "actor" in data:
            data["actor"] = ObjectId(data["actor"])
        return data


class AuditTargetSchema(ma.Schema):
    type = ma.fields.String(required=True, metadata={"description": "video, user, course..."})
    id = ma.fields.String(required=True)


class AuditEntrySchema(ma.Schema):
    id = ObjectIdString(required=True, attribute="_id")
    at = UtcDateTime(required=True)
    actor_id = ObjectIdString(required=True, allow_none=True)
    actor_role = ma.fields.String(required=True, allow_none=True)
    action = ma.fields.String(required=True, metadata={"description": "The route's name"})
    method = ma.fields.String(required=True)
    target = ma.fields.Nested(AuditTargetSchema, required=True, allow_none=True)
    status = ma.fields.Integer(required=True, metadata={"description": "The answer's status"})
    request_id = ma.fields.String(required=True, allow_none=True)
    ip_hash = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "HMAC-SHA256 of the client's address (never the address)"},
    )


class AuditListSchema(ma.Schema):
    entries = ItemList(ma.fields.Nested(AuditEntrySchema), required=True)
    pagination = ma.fields.Nested(PaginationSchema, required=True)
