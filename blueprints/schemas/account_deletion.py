"""Deleting an account, and the export of everything stored about it (docs/accounts.md)."""

import marshmallow as ma
from marshmallow import validate

from blueprints.schemas.common import ObjectIdString, StrictSchema, UtcDateTime
from services.passwords import MAX_PASSWORD_LENGTH


class AccountDeletionSchema(StrictSchema):
    password = ma.fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH)
    )


class ExportProfileSchema(ma.Schema):
    id = ObjectIdString(required=True)
    name = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    created_at = UtcDateTime(allow_none=True)
    updated_at = UtcDateTime(allow_none=True)


def _records(description):
    return ma.fields.List(ma.fields.Dict(), required=True, metadata={"description": description})


class ExportSchema(ma.Schema):
    """The shape of ``GET /me/export``; the body is streamed, section by section."""

    exported_at = UtcDateTime(required=True)
    profile = ma.fields.Nested(ExportProfileSchema, required=True)
    sessions = _records("Every session (device, IP, times), live or ended; no token ids")
    videos = _records("Every video the caller uploaded, in any state, with its share key")
    playback_views = _records("Plays of the caller's playback tokens (video, times)")
    recent_views = _records("When each of the caller's views of a video last counted")
    reactions = _records("Not stored yet: always empty")
    progress = _records("Not stored yet: always empty")
    purchases = _records("Not stored yet: always empty")
    subscriptions = _records("Not stored yet: always empty")
