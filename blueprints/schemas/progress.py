"""Watch progress payloads (docs/progress.md#watch-progress)."""

import marshmallow as ma
from marshmallow import validate

from blueprints.schemas.common import (
    FiniteFloat,
    ItemList,
    PaginationArgs,
    PaginationSchema,
    StrictSchema,
    UtcDateTime,
)
from blueprints.schemas.videos import DashboardItemSchema, share_key_field

POSITION_MESSAGE = "Position must be a number of seconds, 0 or more."


class Seconds(ma.fields.Float):
    """A JSON number only: a string ("12"), a boolean or null is 400, never converted."""

    default_error_messages = {
        "invalid": POSITION_MESSAGE,
        "special": POSITION_MESSAGE,
        "too_large": POSITION_MESSAGE,
    }

    def _validated(self, value):
        if not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._validated(value)


class ProgressReportSchema(StrictSchema):
    position_seconds = Seconds(
        required=True,
        validate=validate.Range(min=0, error=POSITION_MESSAGE),
        metadata={
            "description": "Where the player is, in seconds from the start. Up to 2 s past "
            "the video's duration counts as the end; further is 400 "
            "(position_beyond_duration)"
        },
    )


class ProgressArgs(StrictSchema):
    key = share_key_field()


PROGRESS_DOC = "position_seconds / duration, from 0 to 1"


class ProgressItemSchema(DashboardItemSchema):
    """A listed video as on the dashboard, with where the caller is in it."""

    position_seconds = FiniteFloat(required=True)
    duration = FiniteFloat(allow_none=True, required=True)
    progress = FiniteFloat(required=True, metadata={"description": PROGRESS_DOC})
    finished = ma.fields.Boolean(
        required=True, metadata={"description": "Past 90% (docs/progress.md#watch-progress)"}
    )
    updated_at = UtcDateTime(
        required=True, metadata={"description": "When the caller's player last reported it"}
    )


class ProgressListSchema(ma.Schema):
    videos = ItemList(ma.fields.Nested(ProgressItemSchema), required=True)
    pagination = ma.fields.Nested(PaginationSchema, required=True)


class ProgressListArgs(PaginationArgs):
    pass
