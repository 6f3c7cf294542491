"""The analytics reports (docs/analytics.md)."""

import marshmallow as ma

from blueprints.schemas.common import ObjectIdString, StrictSchema

DAY = {"description": "YYYY-MM-DD (UTC)"}


class SpanArgs(StrictSchema):
    first = ma.fields.Date(
        data_key="from",
        format="%Y-%m-%d",
        metadata={"description": "First day included, YYYY-MM-DD (default: 29 days before `to`)"},
    )
    last = ma.fields.Date(
        data_key="to",
        format="%Y-%m-%d",
        metadata={
            "description": "Last day included, YYYY-MM-DD (default: today, UTC); "
            "not before `from`, at most 366 days with it"
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
