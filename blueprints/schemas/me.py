"""The caller's own account: its name, its password, its signed-in devices (docs/accounts.md)."""

import marshmallow as ma
from marshmallow import validate

from blueprints.schemas.accounts import (
    MAX_EMAIL_LENGTH,
    NameString,
    TrimmedEmail,
    new_password_field,
)
from blueprints.schemas.common import ObjectIdString, StrictSchema, UtcDateTime
from services.passwords import MAX_PASSWORD_LENGTH


class ProfileSchema(StrictSchema):
    name = NameString(required=True, label="Name", max_length=100)


class PasswordChangeSchema(StrictSchema):
    current_password = ma.fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH)
    )
    new_password = new_password_field()


class EmailChangeSchema(StrictSchema):
    new_email = TrimmedEmail(required=True, validate=validate.Length(max=MAX_EMAIL_LENGTH))
    current_password = ma.fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH)
    )


class DeviceSessionSchema(ma.Schema):
    id = ObjectIdString(required=True)
    device = ma.fields.String(
        required=True, metadata={"description": "From the User-Agent of the login"}
    )
    created_at = UtcDateTime(required=True, metadata={"description": "The login"})
    last_used_at = UtcDateTime(required=True, metadata={"description": "To within a few minutes"})
    current = ma.fields.Boolean(
        required=True, metadata={"description": "The session this request comes from"}
    )


class DeviceSessionListSchema(ma.Schema):
    sessions = ma.fields.List(ma.fields.Nested(DeviceSessionSchema), required=True)


class EndedSchema(ma.Schema):
    message = ma.fields.String(required=True)
    ended = ma.fields.Integer(required=True, metadata={"description": "Sessions ended"})
