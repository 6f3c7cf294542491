"""/auth: signup, login, refresh, me, logout."""

from flask import current_app, request

from blueprints.schemas.accounts import (
    LoginSchema,
    RefreshSchema,
    SignupResultSchema,
    SignupSchema,
    TokenBundleSchema,
    UserEnvelopeSchema,
)
from blueprints.schemas.common import MessageSchema
from extensions import limiter
from services import accounts
from web.api import ApiBlueprint
from web.guards import auth_required, current_caller

blp = ApiBlueprint("auth", __name__, url_prefix="/auth", description="Accounts and sessions")


def _limit(name):
    return lambda: current_app.config[name]


@blp.route("/signup", methods=["POST"])
@limiter.limit(_limit("RATELIMIT_SIGNUP"))
@blp.arguments(SignupSchema)
@blp.response(201, SignupResultSchema)
@blp.alt_response(409, description="Email already taken")
@blp.alt_response(429, description="Too many attempts")
def signup(fields):
    """Create an account (role viewer by default, or creator)."""
    user = accounts.signup(**fields)
    return {"message": "Account created", "user_id": str(user["_id"]), "user": user}


@blp.route("/login", methods=["POST"])
@limiter.limit(_limit("RATELIMIT_LOGIN"))
@blp.arguments(LoginSchema)
@blp.response(200, TokenBundleSchema)
@blp.alt_response(401, description="Invalid email or password")
@blp.alt_response(429, description="Too many attempts")
def login(fields):
    """Log in: an access token (also as ``token``), a refresh token and the user."""
    bundle = accounts.login(
        fields["email"],
        fields["password"],
        user_agent=request.user_agent.string,
        ip=request.remote_addr,
    )
    return {"message": "Login successful", **bundle}


@blp.route("/refresh", methods=["POST"])
@limiter.limit(_limit("RATELIMIT_REFRESH"))
@blp.arguments(RefreshSchema)
@blp.response(200, TokenBundleSchema)
@blp.alt_response(401, description="Invalid, expired, revoked or already used refresh token")
def refresh(fields):
    """Rotate: a new token pair. Presenting a used refresh token ends its session."""
    return {"message": "Token refreshed", **accounts.refresh(fields["refresh_token"])}


@blp.route("/me", methods=["GET"])
@auth_required()
@blp.response(200, UserEnvelopeSchema)
def me():
    """The signed-in user."""
    return {"user": current_caller().user}


@blp.route("/logout", methods=["POST"])
@auth_required()
@blp.response(200, MessageSchema)
def logout():
    """End the session: its access, refresh and playback tokens stop working at once."""
    accounts.logout(current_caller())
    return {"message": "Logged out"}
