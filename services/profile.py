"""The caller's own account: its name and its password."""

from models import email_tokens
from models import user as users
from services import devices, passwords
from services.errors import Conflict, Forbidden


def rename(caller, name):
    return users.set_name(caller.user["_id"], name)


def change_password(caller, current_password, new_password):
    """Set a new password if ``current_password`` is the account's; every other session of
    the account ends (their access, refresh and playback tokens with it), this one stays.

    A wrong current password is 403 ``wrong_password``, never 401: a client logs out on 401.
    """
    user = caller.user
    stored = user["password_hash"]
    if not passwords.check(current_password, stored):
        raise Forbidden("The current password is wrong.", code="wrong_password")
    if not users.replace_password_hash(user["_id"], stored, passwords.hash_password(new_password)):
        raise Conflict(
            "The password was changed meanwhile; sign in again and retry.",
            code="password_changed",
        )
    devices.end_others(caller, reason="password_changed")
    # A reset link mailed before the change would otherwise set a password over this one.
    email_tokens.void_of_user(user["_id"], email_tokens.PASSWORD_RESET)
