"""Email verification and email change: the mailed token proves the address.

A new account starts with ``email_verified: false`` and gets a ``verify_email`` mail; an
account from before verification counts as verified (``models.user.is_verified``). A
change of address mails a token to the new address, and the account moves only when that
token comes back, if it still has the address it had at the request; a newer request
voids the older token.
"""

import logging
from datetime import timedelta

from flask import current_app

from models import email_tokens
from models import user as users
from services import email_tokens as tokens
from services import mail, passwords
from services.errors import Conflict, Forbidden

log = logging.getLogger(__name__)

VERIFY_PATH = "verify-email"


def _lifetime():
    return timedelta(hours=current_app.config["VERIFY_TOKEN_HOURS"])


def send_verification(user):
    """Mail a verification link to the account's address; a new one voids the older."""
    mail.require_configured()
    token = tokens.issue(email_tokens.VERIFY_EMAIL, user["_id"], _lifetime(), user["email"])
    link = mail.link(VERIFY_PATH, token)
    valid_hours = current_app.config["VERIFY_TOKEN_HOURS"]
    mail.send("verify_email", user["email"], user["name"], link=link, valid_hours=valid_hours)


def after_signup(user):
    """The verification mail of a new account; a failure is logged, never the signup's."""
    try:
        send_verification(user)
    except Exception:
        log.exception("verification mail for new account %s not queued", user["_id"])


def resend(caller):
    """Mail a new link; False (nothing sent) when the address is verified already."""
    user = caller.user
    if users.is_verified(user):
        return False
    send_verification(user)
    return True


def verify(token):
    """Redeem a verification or change token: the user as it is now."""
    record = tokens.redeem((email_tokens.VERIFY_EMAIL, email_tokens.EMAIL_CHANGE), token)
    user_id = record["user_id"]
    if record["kind"] == email_tokens.VERIFY_EMAIL:
        moved = users.mark_verified(user_id, record["email"])
    else:
        try:
            moved = users.change_email(user_id, record["from_email"], record["email"])
        except users.EmailTaken as error:
            raise _taken() from error
    if not moved:  # the account changed its address since, or is gone
        raise tokens.InvalidToken()
    if record["kind"] == email_tokens.EMAIL_CHANGE:
        # A reset link mailed to the old address must not open the account any more.
        email_tokens.void_of_user(user_id, email_tokens.PASSWORD_RESET)
    return users.find_by_id(user_id)


def _taken():
    return Conflict("An account with this email already exists.", code="email_taken")


def request_change(caller, new_email, current_password):
    """Mail a confirmation to ``new_email``; the address changes when it is redeemed."""
    mail.require_configured()
    user = caller.user
    if not passwords.check(current_password, user["password_hash"]):
        raise Forbidden("The current password is wrong.", code="wrong_password")
    new_email = users.normalize_email(new_email)
    if new_email == user["email"]:
        raise Conflict("This is the account's address already.", code="same_email")
    if users.find_by_email(new_email) is not None:
        raise _taken()
    token = tokens.issue(
        email_tokens.EMAIL_CHANGE, user["_id"], _lifetime(), new_email, from_email=user["email"]
    )
    link = mail.link(VERIFY_PATH, token)
    valid_hours = current_app.config["VERIFY_TOKEN_HOURS"]
    mail.send("email_change", new_email, user["name"], link=link, valid_hours=valid_hours)
