"""/me: the caller's own account: its name, its password, its signed-in devices."""

from flask import current_app

from blueprints.schemas.accounts import UserEnvelopeSchema
from blueprints.schemas.common import MessageSchema
from blueprints.schemas.me import (
    DeviceSessionListSchema,
    EmailChangeSchema,
    EndedSchema,
    PasswordChangeSchema,
    ProfileSchema,
)
from extensions import limiter
from services import devices, profile, verification
from web.api import ApiBlueprint
from web.guards import auth_required, current_caller

blp = ApiBlueprint("me", __name__, url_prefix="/me", description="The caller's own account")


@blp.route("", methods=["PATCH"])
@auth_required()
@blp.arguments(ProfileSchema)
@blp.response(200, UserEnvelopeSchema)
def update_profile(fields):
    """Change the caller's name."""
    return {"user": profile.rename(current_caller(), fields["name"])}


@blp.route("/password", methods=["PUT"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"])  # it checks a password
@auth_required()
@blp.arguments(PasswordChangeSchema)
@blp.response(200, MessageSchema)
@blp.alt_response(403, description="Wrong current password (code wrong_password)")
@blp.alt_response(409, description="The password was changed meanwhile")
@blp.alt_response(429, description="Too many attempts")
def change_password(fields):
    """Change the password: every other session ends at once, this one stays."""
    profile.change_password(current_caller(), fields["current_password"], fields["new_password"])
    return {"message": "Password changed"}


@blp.route("/email", methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"])  # it checks a password
@auth_required()
@blp.arguments(EmailChangeSchema)
@blp.response(202, MessageSchema)
@blp.alt_response(403, description="Wrong current password (code wrong_password)")
@blp.alt_response(409, description="Address taken (email_taken) or already the account's")
@blp.alt_response(429, description="Too many attempts")
@blp.alt_response(503, description="Mail cannot be sent (code mail_not_configured)")
def change_email(fields):
    """Mail a confirmation link to the new address; the account moves to it when the link
    is redeemed (``POST /auth/verify-email``), if it still has its current address."""
    verification.request_change(current_caller(), fields["new_email"], fields["current_password"])
    return {"message": "Confirmation mail sent to the new address"}


@blp.route("/sessions", methods=["GET"])
@auth_required()
@blp.response(200, DeviceSessionListSchema)
def list_sessions():
    """The signed-in devices (live sessions), newest first; ``current`` marks this one."""
    return {"sessions": devices.listing(current_caller())}


@blp.route("/sessions", methods=["DELETE"])
@auth_required()
@blp.response(200, EndedSchema)
def end_other_sessions():
    """Sign out every other device; this one stays."""
    return {"message": "Other sessions ended", "ended": devices.end_others(current_caller())}


@blp.route("/sessions/<objectid:session_id>", methods=["DELETE"])
@auth_required()
@blp.response(200, MessageSchema)
@blp.alt_response(404, description="No such session (or another user's)")
def end_session(session_id):
    """Sign out one device; ending this request's own session logs this client out."""
    devices.end(current_caller(), session_id)
    return {"message": "Session ended"}
