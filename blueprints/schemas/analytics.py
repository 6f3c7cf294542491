"""The analytics reports (docs/analytics.md)."""

import re
from datetime import date

import marshmallow as ma

from blueprints.schemas.common import ObjectIdString, StrictSchema

DAY = {"description": "YYYY-MM-DD (UTC)"}
# The days a span may name: the calendar's edges stay out of reach of the default `from`
# (29 days before `to`) and of the day after `to` (the end of a span's last day).
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)
OUTSIDE = f"Must be a day from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}."
BOUNDS = f"; from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"
DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _within_calendar(day):
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ma.ValidationError(OUTSIDE)


class Day(ma.fields.Date):
    """YYYY-MM-DD and nothing else: ``strptime`` alone takes `2026-1-5` too."""

    def __init__(self, **kwargs):
        metadata = {"pattern": DAY_PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(format="%Y-%m-%d", validate=_within_calendar, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not re.fullmatch(DAY_PATTERN, value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class SpanArgs(StrictSchema):
    first = Day(
        data_key="from",
        metadata={
            "description": "First day included, YYYY-MM-DD (default: 29 days before `to`)" + BOUNDS
        },
    )
    last = Day(
        data_key="to",
        metadata={
            "description": "Last day included, YYYY-MM-DD (default: today, UTC); "
            "not before `from`, at most 366 days with it" + BOUNDS
        },
    )


class SpanSchema(ma.Schema):
    first = ma.fields.Date(data_key="from", required=True, metadata=DAY)
    last = ma.fields.Date(data_key="to", required=True, metadata=DAY)


class TotalsSchema(ma.Schema):
    views = ma.fields.Integer(required=True)
    unique_viewers = ma.fields.Integer(
        required=True,
        metadata={"description": "Viewer-days: the daily unique viewers summed over the span"},
    )
    likes = ma.fields.Integer(required=True, metadata={"description": "Now, not in the span"})
    dislikes = ma.fields.Integer(required=True, metadata={"description": "Now, not in the span"})
    watch_seconds = ma.fields.Integer(required=True)
    completion_rate = ma.fields.Float(
        required=True, metadata={"description": "Finished views / views in the span, 0 to 1"}
    )


class DaySchema(ma.Schema):
    date = ma.fields.String(required=True, metadata=DAY)
    views = ma.fields.Integer(required=True)
    unique_viewers = ma.fields.Integer(
        required=True, metadata={"description": "Distinct users who viewed that day"}
    )
    watch_seconds = ma.fields.Integer(required=True)


class VideoAnalyticsSchema(SpanSchema):
    totals = ma.fields.Nested(TotalsSchema, required=True)
    daily = ma.fields.List(
        ma.fields.Nested(DaySchema),
        required=True,
        metadata={"description": "Every day of the span, ascending, zeros included"},
    )


class TopVideoSchema(ma.Schema):
    video_id = ObjectIdString(required=True)
    title = ma.fields.String(required=True, allow_none=True)
    views = ma.fields.Integer(required=True, metadata={"description": "All time"})
    watch_seconds = ma.fields.Integer(required=True, metadata={"description": "All time"})


class CreatorAnalyticsSchema(VideoAnalyticsSchema):
    top_videos = ma.fields.List(
        ma.fields.Nested(TopVideoSchema),
        required=True,
        metadata={
            "description": "At most 10 videos not deleted: most views of all time first"
            " (not only the span's), then video_id"
        },
    )


class PlatformDaySchema(ma.Schema):
    date = ma.fields.String(required=True, metadata=DAY)
    views = ma.fields.Integer(required=True)
    signups = ma.fields.Integer(required=True)


class RevenueTotalsSchema(ma.Schema):
    currency = ma.fields.String(required=True)
    gross = ma.fields.Integer(required=True)
    creator_share = ma.fields.Integer(required=True)
    platform_share = ma.fields.Integer(required=True)


class AdminAnalyticsSchema(SpanSchema):
    users_by_role = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(), required=True
    )
    videos_by_status = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(), required=True
    )
    stored_bytes = ma.fields.Integer(
        required=True, metadata={"description": "GridFS bytes stored (media and thumbnails)"}
    )
    daily = ma.fields.List(
        ma.fields.Nested(PlatformDaySchema),
        required=True,
        metadata={"description": "Every day of the span, ascending, zeros included"},
    )
    revenue = ma.fields.Nested(
        RevenueTotalsSchema,
        required=True,
        metadata={"description": "The ledger of the span's months (refunds count negative)"},
    )
