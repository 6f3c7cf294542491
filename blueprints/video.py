"""/video: upload, details and status."""

from blueprints.schemas.common import MessageSchema
from blueprints.schemas.prices import price_rules
from blueprints.schemas.videos import (
    CatalogueArgs,
    DeleteArgs,
    ShareKeyArgs,
    UploadSchema,
    VideoEditSchema,
    VideoEnvelopeSchema,
    VideoListSchema,
    VideoStatusSchema,
)
from services import access, library
from services.media import progress, uploads
from web.api import ApiBlueprint
from web.guards import auth_required, current_caller
from web.upload_spool import allow_large_body, spooled_path

blp = ApiBlueprint("video", __name__, url_prefix="/video", description="Videos")


@blp.record_once
def document_price_rules(state):
    """The request schemas with the rules that tie ``price`` to ``access`` (and this app's
    MAX_PRICE), registered before the routes' documentation refers to them."""
    api = state.app.extensions["flask-smorest"]["blp_name_to_api"][blp.name]
    max_price = state.app.config["MAX_PRICE"]
    api.spec.components.schema("Upload", price_rules(max_price, True), schema=UploadSchema)
    api.spec.components.schema("VideoEdit", price_rules(max_price, False), schema=VideoEditSchema)


ACCESS_400 = (
    "Invalid fields (`validation_error`, e.g. an unknown `access`), or a price that does not "
    "fit the access level, `details.price` saying why: `invalid_price` (not a whole number of "
    "cents from 1 to MAX_PRICE), `price_required` (`paid` without one), `price_not_allowed` "
    "(a price with `free` or `subscribers`)"
)
ACCESS_409 = (
    "The price does not fit the video's current access level: `price_not_allowed` (a "
    "`price` alone for a video that is not paid), `price_required` (`access: paid` alone "
    "for a video that has no price)"
)


@blp.route("/upload", methods=["POST"])
@allow_large_body
@auth_required(access.require_uploader)
@blp.arguments(UploadSchema, location="multipart")
@blp.response(202, VideoEnvelopeSchema)
@blp.alt_response(400, description=ACCESS_400)
@blp.alt_response(413, description="Over MAX_UPLOAD_MB")
@blp.alt_response(422, description="Not a decodable video or audio file; nothing stored")
def upload(fields):
    """Upload a video or audio file (multipart); processing continues in the background."""
    part = fields.pop("file")
    caller = current_caller()
    video = uploads.accept(caller.user, spooled_path(part), part.filename, fields)
    return {"video": library.shown_to(caller, video)}


@blp.route("/<objectid:video_id>", methods=["GET"])
@auth_required()
@blp.arguments(ShareKeyArgs, location="query")
@blp.response(200, VideoEnvelopeSchema)
@blp.alt_response(404, description="Unknown, deleted, or hidden from the caller")
def details(args, video_id):
    """A video's details (owner and admin see it in any state, with its ``share_key``).

    Someone else's unlisted video needs ``?key=<share key>``.
    """
    return {"video": library.details(current_caller(), video_id, args.get("key"))}


@blp.route("/<objectid:video_id>/status", methods=["GET"])
@auth_required()
@blp.arguments(ShareKeyArgs, location="query")
@blp.response(200, VideoStatusSchema)
@blp.alt_response(404, description="Unknown, deleted, or hidden from the caller")
def status(args, video_id):
    """processing (with its stage and progress), ready or failed (with a reason)."""
    video = library.details(current_caller(), video_id, args.get("key"))
    return {**video, **progress.shown(video)}


MANAGE_403 = (
    "A video the caller may see but not change: `not_owner`, or `insufficient_role` for an "
    "owner who is no longer a creator"
)
MANAGE_404 = "Unknown, deleted, or hidden from the caller (whatever the method)"


@blp.route("/<objectid:video_id>", methods=["PATCH"])
@auth_required()
@blp.arguments(VideoEditSchema)
@blp.response(200, VideoEnvelopeSchema)
@blp.alt_response(400, description=ACCESS_400)
@blp.alt_response(403, description=MANAGE_403)
@blp.alt_response(404, description=MANAGE_404)
@blp.alt_response(409, description=ACCESS_409)
def edit(fields, video_id):
    """Change title, description, category, tags, visibility, access or price (owner
    creator or admin). A change of ``access`` away from ``paid`` clears the price."""
    return {"video": library.edit(current_caller(), video_id, fields)}


@blp.route("/<objectid:video_id>", methods=["DELETE"])
@auth_required()
@blp.arguments(DeleteArgs, location="query")
@blp.response(200, MessageSchema)
@blp.alt_response(403, description=MANAGE_403 + "; `admin_only` for a purge")
@blp.alt_response(404, description=MANAGE_404)
def delete(args, video_id):
    """Soft delete (owner or admin): hidden everywhere. ``?purge=true`` (admin): files removed."""
    library.delete(current_caller(), video_id, purge=args["purge"])
    return {"message": "Video purged" if args["purge"] else "Video deleted"}


@blp.route("/<objectid:video_id>/restore", methods=["POST"])
@auth_required(access.require_admin)
@blp.response(200, VideoEnvelopeSchema)
def restore(video_id):
    """Undo a soft delete (admin)."""
    return {"video": library.restore(current_caller(), video_id)}


@blp.route("/<objectid:video_id>/share-key", methods=["POST"])
@auth_required()
@blp.response(200, VideoEnvelopeSchema)
@blp.alt_response(403, description=MANAGE_403)
@blp.alt_response(404, description=MANAGE_404)
def new_share_key(video_id):
    """A new share key (owner creator or admin): the old one, and the playback tokens
    issued with it, stop opening the unlisted video at once."""
    return {"video": library.new_share_key(current_caller(), video_id)}


catalogue_blp = ApiBlueprint("catalogue", __name__, description="The public catalogue")


@catalogue_blp.route("/videos", methods=["GET"])
@auth_required()
@catalogue_blp.arguments(CatalogueArgs, location="query")
@catalogue_blp.response(200, VideoListSchema)
def catalogue(args):
    """Ready, public videos, newest first; ``q`` (word search), ``category``, ``creator``.

    ``q`` matches title, description and tags: case and accents ignored, every word must
    match, each as the start of a word (``pian`` finds "Piano"). An item the caller may not
    watch is ``locked`` (with ``access``, ``price``, ``currency``); every ``thumbnail_url``
    is signed with a preview token, which loads the thumbnail only.
    """
    found, pagination = library.catalogue(current_caller(), **args)
    return {"videos": found, "pagination": pagination}
