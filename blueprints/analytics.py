"""Analytics: a video's, a creator's and the platform's (docs/analytics.md)."""

from blueprints.schemas.analytics import (
    AdminAnalyticsSchema,
    CreatorAnalyticsSchema,
    SpanArgs,
    VideoAnalyticsSchema,
)
from services import access, analytics
from web.api import ApiBlueprint
from web.guards import auth_required, current_caller

blp = ApiBlueprint("analytics", __name__, description="Analytics")

BAD_SPAN = (
    "A date not YYYY-MM-DD, or outside 1970-01-01..9998-12-31 (validation_error), "
    "`to` before `from` (invalid_date_range), "
    "or more than 366 days (span_too_long)"
)


@blp.route("/video/<objectid:video_id>/analytics", methods=["GET"])
@auth_required()
@blp.arguments(SpanArgs, location="query")
@blp.response(200, VideoAnalyticsSchema)
@blp.alt_response(400, description=BAD_SPAN)
@blp.alt_response(403, description="Not the video's owner or an admin (code not_owner)")
@blp.alt_response(404, description="No such video, or one the caller may not see")
def video_analytics(args, video_id):
    """The video's views, unique viewers, watch time and completion over the span, and its
    likes and dislikes now; ``daily`` has every day of the span (default the last 30)."""
    return analytics.video_report(current_caller(), video_id, **args)


@blp.route("/analytics/creator", methods=["GET"])
@auth_required(access.require_uploader)
@blp.arguments(SpanArgs, location="query")
@blp.response(200, CreatorAnalyticsSchema)
@blp.alt_response(400, description=BAD_SPAN)
@blp.alt_response(403, description="Not a creator or admin (code insufficient_role)")
def creator_analytics(args):
    """The caller's videos together over the span, and the (at most 10) most viewed."""
    return analytics.creator_report(current_caller(), **args)


@blp.route("/analytics/admin", methods=["GET"])
@auth_required(access.require_admin)
@blp.arguments(SpanArgs, location="query")
@blp.response(200, AdminAnalyticsSchema)
@blp.alt_response(400, description=BAD_SPAN)
@blp.alt_response(403, description="Not an admin (code insufficient_role)")
def admin_analytics(args):
    """The platform: users by role, videos by status, GridFS bytes, views and signups per
    day, and the revenue of the span's months."""
    return analytics.admin_report(**args)
