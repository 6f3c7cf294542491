"""Accounts and sessions: signup, login, refresh with rotation, logout, roles."""

import logging
from datetime import timedelta

from bson import ObjectId
from flask import current_app

from models import admins
from models import session as sessions
from models import user as users
from models.common import utcnow
from models.db import StartupRefused
from models.vocabulary import ADMIN, ROLES, VIEWER
from services import access, audit, devices, ip_hash, pagination, passwords, tokens, user_agents
from services.errors import Conflict, InvalidInput, NotFound, Unauthorized

log = logging.getLogger(__name__)

INVALID_CREDENTIALS = "Invalid email or password"


def signup(name, email, password, role=VIEWER):
    access.require_signup_role(role)
    try:
        user = users.insert(name, email, passwords.hash_password(password), role)
    except users.EmailTaken as error:
        raise Conflict("An account with this email already exists.", code="email_taken") from error
    audit.note_actor(user)
    return user


def login(email, password, user_agent=None, ip=None):
    """A new session and its tokens; ``ip`` (the client's address) is kept only as its keyed
    hash (services.ip_hash)."""
    user = users.find_by_email(email)
    stored = user["password_hash"] if user else None
    if not passwords.check(password, stored):
        raise Unauthorized(INVALID_CREDENTIALS, code="invalid_credentials")
    if passwords.needs_upgrade(stored):
        # A hash from before the pre-hash: the password is known now, so rehash it.
        users.replace_password_hash(user["_id"], stored, passwords.hash_password(password))
    audit.note_actor(user)
    return _open_session(user, user_agent, ip_hash.of(ip))


def _open_session(user, user_agent, ip_digest):
    session_id = ObjectId()  # chosen here: the refresh token carries it
    pair = tokens.mint_pair(user["_id"], session_id)
    device = user_agents.describe(user_agent)
    sessions.create(
        session_id,
        user["_id"],
        pair.refresh.jti,
        pair.refresh.expires_at,
        user_agent,
        ip_digest,
        device,
    )
    return _token_bundle(user, pair)


def _token_bundle(user, pair):
    return {
        "token": pair.access.token,
        "access_token": pair.access.token,
        "refresh_token": pair.refresh.token,
        "token_type": "Bearer",
        "expires_in": int(pair.access.lifetime.total_seconds()),
        "user": user,
    }


def refresh(refresh_token):
    """A new token pair for a current refresh token; a replayed one kills its session.

    Rotation is one conditional update, so of two refreshes racing with one token only
    one rotates; the other (a client's retry, two tabs) would look like a replay. Within
    ``REFRESH_GRACE_SECONDS`` of its rotation, the token just before the current one gets
    the pair it was rotated to, re-signed from the claims the session kept.
    """
    claims = tokens.decode(refresh_token, tokens.REFRESH)
    session_id, user_id = claims["sid"], claims["sub"]
    pair = tokens.mint_pair(user_id, session_id)
    if not sessions.rotate_refresh(session_id, claims["jti"], pair.claims_record()):
        pair = _pair_for_retry(session_id, user_id, claims["jti"])
    user = users.find_by_id(user_id)
    if user is None:
        sessions.revoke(session_id, "user_deleted")
        raise Unauthorized("The refresh token is no longer valid.", code="invalid_token")
    audit.note_actor(user)
    return _token_bundle(user, pair)


def _pair_for_retry(session_id, user_id, presented_jti):
    """The pair the immediately previous refresh token was just rotated to; any other
    used token is a replay (theft detection): its whole session is revoked."""
    grace = timedelta(seconds=current_app.config["REFRESH_GRACE_SECONDS"])
    rotated_to = sessions.rotation_from(session_id, presented_jti, utcnow() - grace)
    if rotated_to is None:
        if sessions.revoke(session_id, "refresh_token_reuse"):
            log.warning("refresh token replayed; session %s revoked", session_id)
        raise Unauthorized("The refresh token is no longer valid.", code="invalid_token")
    log.info("refresh retried within the grace window; session %s", session_id)
    return tokens.reissue_pair(user_id, session_id, rotated_to)


def logout(caller):
    sessions.revoke(caller.session_id, "logout")


def session_user(claims):
    """The user behind verified token claims (access or playback), if its session and the
    user still exist: logout and account deletion end every token at once. Notes the
    session's use (services.devices: at most one write per interval)."""
    session = sessions.find_active(claims["sid"])
    if session is None:
        raise Unauthorized("The session has ended. Please log in again.", code="session_revoked")
    devices.note_use(session)
    user = users.find_by_id(claims["sub"])
    if user is None:
        raise Unauthorized("The account no longer exists.", code="invalid_token")
    return user


def authenticate(access_token):
    """The Caller of an access token: 401 if it is invalid, expired or its session ended."""
    claims = tokens.decode(access_token, tokens.ACCESS)
    return access.Caller(user=session_user(claims), session_id=claims["sid"])


def list_users(caller, per_page, cursor=None, role=None):
    """(users, pagination), newest first; ``role`` filters. Admins only."""
    access.require_admin(caller)
    scope = pagination.list_scope("users", role=role)
    return pagination.list_page(
        scope, cursor, per_page, lambda after, window: users.page(per_page, after, window, role)
    )


def change_role(caller, user_id, role):
    """Set a user's role (admins only). The last admin stays one (models.admins decides,
    atomically)."""
    access.require_admin(caller)
    if role not in ROLES:
        raise InvalidInput(details={"role": [f"Must be one of: {', '.join(ROLES)}."]})
    if caller.user_id == user_id and role != ADMIN:
        raise Conflict("Admins cannot remove their own admin role.", code="self_demotion")
    target = users.find_by_id(user_id)
    if target is None:
        raise NotFound("No such user.", code="user_not_found")
    if target["role"] == role:
        return target
    if target["role"] == ADMIN:
        leave_admins(target["_id"])
    updated = users.set_role(target["_id"], role, current_role=target["role"])
    if updated is None:
        raise Conflict(
            "This account's role changed meanwhile; reload it and try again.",
            code="role_changed",
        )
    if role == ADMIN:
        admins.join(target["_id"])
    return updated


def leave_admins(user_id):
    """Before an account stops being an admin (demotion, deletion): 409 ``last_admin`` if
    it is the only one."""
    try:
        admins.step_down(user_id)
    except admins.LastAdmin as error:
        raise Conflict(
            "This is the last admin account: make another admin first.", code="last_admin"
        ) from error


class AdminEmailTaken(StartupRefused):
    """ADMIN_EMAIL is the address of an account that is not an admin, and whose password
    is not ADMIN_PASSWORD: it must not be promoted."""


def bootstrap_admin(database=None):
    """Make sure ADMIN_EMAIL is an admin whose password is ADMIN_PASSWORD; idempotent.

    No account under that address: one is created. An admin already: left as it is (its
    password may have been changed since). Any other account is promoted only when
    ADMIN_PASSWORD is its password; otherwise whoever registered that address first would
    become admin, so start-up stops (AdminEmailTaken).
    """
    config = current_app.config
    email, password = config.get("ADMIN_EMAIL"), config.get("ADMIN_PASSWORD")
    if not email or not password:
        if config["APP_ENV"] == "production":
            log.warning("ADMIN_EMAIL/ADMIN_PASSWORD not set: no admin account created")
        return
    email = users.normalize_email(email)
    existing = users.find_by_email(email)
    if existing is None:
        admin_id = users.insert_admin(
            config["ADMIN_NAME"], email, passwords.hash_password(password)
        )
        if admin_id is not None:
            admins.join(admin_id)
            log.info("admin account created: %s", email)
            return
        existing = users.find_by_email(email)  # made meanwhile, by a signup or another process
    if existing["role"] == ADMIN:
        admins.ensure()  # a database from before the guard: it starts from the admins there
        return
    if not passwords.check(password, existing["password_hash"]):
        raise AdminEmailTaken(
            f"ADMIN_EMAIL ({email}) is the address of an existing {existing['role']} account "
            "that ADMIN_PASSWORD does not open, so someone else may have registered that "
            "address first; it is not made admin. If the account is yours, set ADMIN_PASSWORD "
            "to its password; otherwise choose another ADMIN_EMAIL."
        )
    users.promote_to_admin(existing["_id"])
    admins.join(existing["_id"])
    log.warning("existing account %s promoted to admin (ADMIN_PASSWORD verified)", email)
