"""/videos/batch: several uploads in one request, each accepted or refused on its own."""

from blueprints.schemas.batch import BatchResultsSchema, BatchUploadSchema
from services import access, library
from services.media import batch
from web.api import ApiBlueprint
from web.guards import auth_required, current_caller
from web.upload_spool import allow_batch_body, spooled_path

blp = ApiBlueprint("batch", __name__, url_prefix="/videos", description="Videos")


@blp.route("/batch", methods=["POST"])
@allow_batch_body
@auth_required(access.require_uploader)
@blp.arguments(BatchUploadSchema, location="multipart")
@blp.response(207, BatchResultsSchema)
@blp.alt_response(
    400,
    description="`too_many_files` (over MAX_BATCH_FILES), `titles_mismatch` (not one title "
    "per file), invalid fields, `malformed_form`; nothing stored",
)
@blp.alt_response(413, description="The whole body over MAX_BATCH_FILES x MAX_UPLOAD_MB MiB")
def upload_batch(fields):
    """Upload several video or audio files (multipart: ``file`` parts and ``titles``).

    Each file is accepted (202, processing continues in the background) or refused (413
    over MAX_UPLOAD_MB, 422 not media; nothing stored for it) on its own; ``results`` has
    one per file, in order. The other fields are shared by every video.
    """
    parts, titles = fields.pop("file"), fields.pop("titles")
    caller = current_caller()
    files = [(spooled_path(part), part.filename) for part in parts]
    results = batch.accept_all(
        caller.user, files, titles, fields, shown=lambda video: library.shown_to(caller, video)
    )
    return {"results": results}
