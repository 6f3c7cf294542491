"""/video/{id}/reaction: a like or a dislike, one per user and video."""

from blueprints.playback import HIDDEN_404, WATCH_403
from blueprints.schemas.reactions import ReactionResultSchema, ReactionSchema
from blueprints.schemas.videos import ShareKeyArgs
from services import reactions
from web.api import ApiBlueprint
from web.guards import auth_required, current_caller

blp = ApiBlueprint("reactions", __name__, url_prefix="/video", description="Reactions")


@blp.route("/<objectid:video_id>/reaction", methods=["PUT"])
@auth_required()
@blp.arguments(ShareKeyArgs, location="query")
@blp.arguments(ReactionSchema)
@blp.response(200, ReactionResultSchema)
@blp.alt_response(400, description="`value` missing or not `like`/`dislike`")
@blp.alt_response(403, description="The caller may not watch the video: " + WATCH_403)
@blp.alt_response(404, description=HIDDEN_404)
@blp.alt_response(409, description="`video_not_ready`: the video is not ready")
def react(args, fields, video_id):
    """Like or dislike a video one may watch: one reaction per user and video; a new value
    replaces the old (the counts move), the same value again changes nothing.

    Someone else's unlisted video needs ``?key=<share key>``.
    """
    caller = current_caller()
    return reactions.react(caller, video_id, fields["value"], args.get("key"))


@blp.route("/<objectid:video_id>/reaction", methods=["DELETE"])
@auth_required()
@blp.arguments(ShareKeyArgs, location="query")
@blp.response(200, ReactionResultSchema)
@blp.alt_response(404, description=HIDDEN_404)
def clear(args, video_id):
    """Withdraw one's reaction (``reaction`` null); without one, nothing changes. Needs
    only to see the video, not to be able to watch it now."""
    return reactions.clear(current_caller(), video_id, args.get("key"))
