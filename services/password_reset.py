"""Password reset by mail: ask with an address, confirm with the mailed token.

Asking answers the same whether the address has an account or not, and does the same
work up to the queue: a token is made and hashed and the mail is rendered either way;
only an account's token is stored and its mail queued. Confirming sets the new password
and ends every session of the account. A token is single-use, valid
``RESET_TOKEN_MINUTES``, and a newer request voids the older ones.
"""

import logging
from datetime import timedelta

from flask import current_app

from models import email_tokens
from models import session as sessions
from models import user as users
from services import email_tokens as tokens
from services import mail, passwords

log = logging.getLogger(__name__)

RESET_PATH = "reset-password"


def request(email):
    """Mail a reset link if ``email`` is an account's; the same answer either way."""
    mail.require_configured()
    user = users.find_by_email(email)
    made = tokens.new_token()
    minutes = current_app.config["RESET_TOKEN_MINUTES"]
    link = mail.link(RESET_PATH, made[0])
    context = {"link": link, "valid_minutes": minutes}
    if user is None:
        mail.compose("password_reset", users.normalize_email(email), None, **context)
        return
    lifetime = timedelta(minutes=minutes)
    tokens.issue(email_tokens.PASSWORD_RESET, user["_id"], lifetime, user["email"], made=made)
    mail.send("password_reset", user["email"], user["name"], **context)


def confirm(token, new_password):
    """Set the new password; every session of the account ends. InvalidToken (400) for a
    token that is guessed, used, expired, superseded, or whose account is gone."""
    record = tokens.redeem((email_tokens.PASSWORD_RESET,), token)
    user_id = record["user_id"]
    if not users.set_password_hash(user_id, passwords.hash_password(new_password)):
        raise tokens.InvalidToken()
    ended = sessions.revoke_others(user_id, None, "password_reset")
    log.info("password reset for account %s; %d sessions ended", user_id, ended)
