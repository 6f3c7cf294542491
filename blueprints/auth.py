"""/auth: signup, login, refresh, me, logout, email verification, password reset."""

from flask import current_app, request

from blueprints.schemas.accounts import (
    EmailTokenSchema,
    LoginSchema,
    PasswordResetConfirmSchema,
    PasswordResetSchema,
    RefreshSchema,
    SignupResultSchema,
    SignupSchema,
    TokenBundleSchema,
    UserEnvelopeSchema,
)
from blueprints.schemas.common import MessageSchema
from extensions import limiter
from services import accounts, password_reset, verification
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
    """Create an account (role viewer by default, or creator), ``email_verified: false``;
    a verification link is mailed (a mail failure never fails the signup)."""
    user = accounts.signup(**fields)
    verification.after_signup(user)
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


@blp.route("/verify-email", methods=["POST"])
@limiter.limit(_limit("RATELIMIT_LOGIN"))
@blp.arguments(EmailTokenSchema)
@blp.response(200, UserEnvelopeSchema)
@blp.alt_response(
    400, description="Invalid, used, superseded or expired token (code invalid_or_expired_token)"
)
@blp.alt_response(409, description="The new address was taken meanwhile (code email_taken)")
@blp.alt_response(429, description="Too many attempts")
def verify_email(fields):
    """Redeem a mailed link (verification, or a change of address): no sign-in needed,
    the token is the credential. The account as it is now."""
    return {"user": verification.verify(fields["token"])}


@blp.route("/resend-verification", methods=["POST"])
@limiter.limit(_limit("RATELIMIT_SIGNUP"))
@auth_required()
@blp.response(202, MessageSchema)
@blp.alt_response(200, schema=MessageSchema, description="Already verified: nothing sent")
@blp.alt_response(429, description="Too many attempts")
@blp.alt_response(503, description="Mail cannot be sent (code mail_not_configured)")
def resend_verification():
    """Mail a new verification link (the older ones stop working)."""
    if not verification.resend(current_caller()):
        return {"message": "Email already verified"}, 200
    return {"message": "Verification mail sent"}


def _reset_address():
    """The per-address limit's key: the normalised address asked for."""
    body = request.get_json(silent=True)
    email = body.get("email") if isinstance(body, dict) else None
    return f"reset:{email.strip().lower()}" if isinstance(email, str) else "reset:"


@blp.route("/password-reset", methods=["POST"])
@limiter.limit(_limit("RATELIMIT_LOGIN"))
@limiter.limit(_limit("RATELIMIT_PASSWORD_RESET"), key_func=_reset_address)
@blp.arguments(PasswordResetSchema)
@blp.response(202, MessageSchema)
@blp.alt_response(429, description="Too many attempts (per client address, per email)")
@blp.alt_response(503, description="Mail cannot be sent (code mail_not_configured)")
def request_password_reset(fields):
    """Mail a reset link if the address has an account: the same answer either way."""
    password_reset.request(fields["email"])
    return {"message": "If this address has an account, a reset link is on its way"}


@blp.route("/password-reset/confirm", methods=["POST"])
@limiter.limit(_limit("RATELIMIT_LOGIN"))
@blp.arguments(PasswordResetConfirmSchema)
@blp.response(200, MessageSchema)
@blp.alt_response(
    400, description="Invalid, used, superseded or expired token (code invalid_or_expired_token)"
)
@blp.alt_response(429, description="Too many attempts")
def confirm_password_reset(fields):
    """Set a new password with a mailed token; every session of the account ends."""
    password_reset.confirm(fields["token"], fields["new_password"])
    return {"message": "Password reset; sign in with the new password"}
