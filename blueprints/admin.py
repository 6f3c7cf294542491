"""/admin: user management and the audit log (admins only)."""

from blueprints.schemas.accounts import (
    RoleSchema,
    UserEnvelopeSchema,
    UserFilterArgs,
    UserListSchema,
)
from blueprints.schemas.audit import AuditFilterArgs, AuditListSchema
from blueprints.schemas.common import MessageSchema
from services import access, account_deletion, accounts, audit
from web.api import ApiBlueprint
from web.guards import auth_required, current_caller

blp = ApiBlueprint("admin", __name__, url_prefix="/admin", description="Administration")


@blp.route("/users", methods=["GET"])
@auth_required(access.require_admin)
@blp.arguments(UserFilterArgs, location="query")
@blp.response(200, UserListSchema)
def list_users(args):
    """All accounts, newest first; filter by ``role``."""
    found, pagination = accounts.list_users(current_caller(), **args)
    return {"users": found, "pagination": pagination}


@blp.route("/users/<objectid:user_id>/role", methods=["PATCH"])
@auth_required(access.require_admin)
@blp.arguments(RoleSchema)
@blp.response(200, UserEnvelopeSchema)
@blp.alt_response(404, description="No such user")
def change_role(fields, user_id):
    """Set a user's role (viewer, creator or admin)."""
    return {"user": accounts.change_role(current_caller(), user_id, fields["role"])}


@blp.route("/users/<objectid:user_id>", methods=["DELETE"])
@auth_required(access.require_admin)
@blp.response(202, MessageSchema)
@blp.alt_response(404, description="No such user")
@blp.alt_response(409, description="The last admin account (code last_admin)")
def delete_user(user_id):
    """Delete an account, as ``DELETE /me`` does (an admin goes through the admins guard)."""
    account_deletion.delete_user(current_caller(), user_id)
    return {"message": "Account deleted"}


@blp.route("/audit", methods=["GET"])
@auth_required(access.require_admin)
@blp.arguments(AuditFilterArgs, location="query")
@blp.response(200, AuditListSchema)
@blp.alt_response(400, description="A malformed filter (named in details) or cursor")
def audit_log(args):
    """The audit log, newest first: every mutating call (docs/audit.md). Filters: ``actor``,
    ``action``, ``target`` (or ``target_type`` and ``target_id``), ``from``, ``to``."""
    entries, pagination = audit.query(current_caller(), **args)
    return {"entries": entries, "pagination": pagination}
