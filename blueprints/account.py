"""/me: deleting the caller's account, and the export of everything stored about it."""

from flask import Response, current_app, stream_with_context

from blueprints.schemas.account_deletion import AccountDeletionSchema, ExportSchema
from blueprints.schemas.common import MessageSchema
from extensions import limiter
from services import account_deletion, export
from web.api import ApiBlueprint
from web.guards import auth_required, current_caller

blp = ApiBlueprint(
    "account", __name__, url_prefix="/me", description="Deleting and exporting the account"
)


@blp.route("", methods=["DELETE"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"])  # it checks a password
@auth_required()
@blp.arguments(AccountDeletionSchema)
@blp.response(202, MessageSchema)
@blp.alt_response(403, description="Wrong password (code wrong_password)")
@blp.alt_response(409, description="The last admin account (code last_admin)")
@blp.alt_response(429, description="Too many attempts")
def delete_account(fields):
    """Delete the caller's account: every session ends and the email is free at once; the
    videos, views and sessions are removed by a job within ACCOUNT_DELETION_HOURS."""
    account_deletion.delete_own(current_caller(), fields["password"])
    return {"message": "Account deleted"}


@blp.route("/export", methods=["GET"])
@auth_required()
@blp.response(200, ExportSchema)
def export_account():
    """Everything stored about the caller, as one JSON document (streamed)."""
    body = export.document(current_caller().user)
    return Response(stream_with_context(body), mimetype="application/json")
