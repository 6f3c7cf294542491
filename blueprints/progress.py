"""Watch progress: the player's reports, continue-watching and history
(docs/progress.md#watch-progress)."""

from blueprints.schemas.progress import (
    ProgressArgs,
    ProgressListArgs,
    ProgressListSchema,
    ProgressReportSchema,
)
from services import progress
from web.api import ApiBlueprint
from web.guards import auth_required, current_caller

blp = ApiBlueprint("progress", __name__, description="Watch progress and history")


@blp.route("/video/<objectid:video_id>/progress", methods=["PUT"])
@auth_required()
@blp.arguments(ProgressReportSchema)
@blp.arguments(ProgressArgs, location="query")
@blp.response(204)
@blp.alt_response(
    400,
    description="position_seconds missing, not a number, negative, or more than 2 s past "
    "the video's end (position_beyond_duration)",
)
@blp.alt_response(
    403,
    description="The caller may not watch the video (purchase_required, subscription_required)",
)
@blp.alt_response(404, description="No such video, or hidden from the caller (video_not_found)")
@blp.alt_response(409, description="The video is not ready (video_not_ready)")
def report_progress(fields, args, video_id):
    """Where the caller's player is in the video (players report every ~10 s). Idempotent:
    the same position again changes nothing but the time of the report. Credits watch time
    (never more than the wall time since the previous report)."""
    progress.report(current_caller(), video_id, fields["position_seconds"], args.get("key"))
    return None


@blp.route("/me/continue-watching", methods=["GET"])
@auth_required()
@blp.arguments(ProgressListArgs, location="query")
@blp.response(200, ProgressListSchema)
@blp.alt_response(400, description="Invalid cursor (invalid_cursor)")
def continue_watching(args):
    """Videos the caller watched past 5% and not past 90%, most recently watched first
    (cursor-paginated). Deleted and no longer visible videos are left out."""
    items, pagination = progress.continue_watching(current_caller(), **args)
    return {"videos": items, "pagination": pagination}


@blp.route("/me/history", methods=["GET"])
@auth_required()
@blp.arguments(ProgressListArgs, location="query")
@blp.response(200, ProgressListSchema)
@blp.alt_response(400, description="Invalid cursor (invalid_cursor)")
def watch_history(args):
    """Every video the caller's player reported on, finished or not, most recent first
    (cursor-paginated). Deleted and no longer visible videos are left out."""
    items, pagination = progress.history(current_caller(), **args)
    return {"videos": items, "pagination": pagination}
