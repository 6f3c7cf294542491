"""Account deletion: ``DELETE /me`` and ``DELETE /admin/users/{id}``, and the job that
removes what the account left behind.

The request does what must hold at once: the admins guard lets the account go (409
``last_admin`` for the last one), the tombstone is inserted and the user document deleted
(models.deleted_account: every token is refused, the email is free), and every session
ends. The rest is a job under a lease in the tombstone, renewed by a heartbeat
(services.media.lease); a process that dies leaves the lease to run out, and the sweep (at
start-up and every ``SWEEP_SECONDS``) hands the deletion to a new job, which does every step
again: each is idempotent. See docs/accounts.md for what goes and what stays.
"""

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from flask import current_app

from models import deleted_account as tombstones
from models import email_tokens, mail_outbox
from models import session as sessions
from models import user as users
from models.vocabulary import ADMIN
from services import access, erasure, passwords
from services.accounts import leave_admins
from services.errors import Forbidden, NotFound
from services.media.lease import Lease
from services.sweeper import Sweeper

log = logging.getLogger(__name__)

SWEEP_SECONDS = 30


class DeletionLease(Lease):
    """services.media.lease.Lease, kept in the tombstone instead of a video."""

    def __init__(self, app, user_id, seconds):
        super().__init__(app, user_id, seconds)
        self.length = timedelta(seconds=seconds)

    def claim(self):
        return tombstones.claim(self.video_id, self.length, self.owner)

    def finish(self):
        return tombstones.finish(self.video_id, self.owner)

    def _renew(self):
        try:
            return tombstones.renew(self.video_id, self.length, self.owner)
        except Exception:  # the database may be away: the next beat tries again
            log.warning("renewing the deletion lease of %s failed", self.video_id, exc_info=True)
            return True


def delete_own(caller, password):
    """``DELETE /me``: 403 ``wrong_password`` (never 401: a client logs out on 401)."""
    if not passwords.check(password, caller.user["password_hash"]):
        raise Forbidden("The password is wrong.", code="wrong_password")
    _delete(caller.user, "self")


def delete_user(caller, user_id):
    """``DELETE /admin/users/{id}`` (admins)."""
    access.require_admin(caller)
    target = users.find_by_id(user_id)
    if target is None:
        raise NotFound("No such user.", code="user_not_found")
    _delete(target, "admin")


def _delete(user, requested_by):
    if user.get("role") == ADMIN:
        leave_admins(user["_id"])  # 409 last_admin; atomic against a concurrent demotion
    jobs = _jobs()
    lease = DeletionLease(jobs.app, user["_id"], jobs.lease_seconds)
    if not tombstones.start(user, requested_by, lease.owner, lease.length):
        return  # a deletion of this account is already under way
    users.remove(user["_id"])
    sessions.revoke_others(user["_id"], None, "account_deleted")
    # Queued mail names the address, not the account: it goes now, while the address is known.
    mail_outbox.remove_to({user["email"], *email_tokens.addresses_of(user["_id"])})
    jobs.submit(user["_id"], lease)


def _jobs():
    return current_app.extensions["account_deletions"]


class AccountDeletions:
    """The deletion jobs of one process: a small pool, and the sweep for abandoned ones."""

    def __init__(self, app, workers=1):
        self.app = app
        self.lease_seconds = app.config["PROCESSING_LEASE_SECONDS"]
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deletion")
        self.steps = erasure.STEPS  # tests swap in a step that fails midway
        self._sweeper = Sweeper("deletion-sweep", SWEEP_SECONDS, self.sweep)

    def submit(self, user_id, lease=None):
        """Run the deletion of ``user_id``; ``lease``: one the caller already holds."""
        return self.executor.submit(self._run, user_id, lease)

    def _run(self, user_id, lease):
        with self.app.app_context():
            if lease is None:
                lease = DeletionLease(self.app, user_id, self.lease_seconds)
                if not lease.claim():
                    return
            with lease.kept_alive():
                erasure.run(user_id, lease, self.steps, self.app.config["ACCOUNT_DELETION_HOURS"])

    def sweep(self):
        """Queue every pending deletion whose job died (its lease ran out)."""
        with self.app.app_context():
            found = tombstones.abandoned()
        for user_id in found:
            log.info("resuming the deletion of account %s", user_id)
            self.submit(user_id)
        return found

    def start_sweeping(self):
        self._sweeper.start()

    def stop_sweeping(self):
        self._sweeper.stop()
