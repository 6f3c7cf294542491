"""The background sender: a thread per process that delivers the queued mails.

``send`` queues a mail and pokes the sender, which tries it at once (a healthy server
delivers within a second or two) and otherwise every ``POLL_SECONDS``. Each mail is
claimed under a lease (models.mail_outbox.claim), so two processes never send it twice
while both live. A failure waits ``BACKOFF`` (30 s, 2 min, 10 min, then every 30 min);
after ``MAX_ATTEMPTS`` or ``GIVE_UP_AFTER`` the mail is dropped and an error logged. A
recipient the server refuses for good (a 5xx answer to RCPT TO) is given up at once:
retrying cannot change that answer.
"""

import logging
import smtplib
import threading
from datetime import timedelta

from models import mail_outbox
from models.common import as_utc, utcnow
from services.mail import transport

log = logging.getLogger(__name__)

POLL_SECONDS = 15
BATCH = 20  # mails looked up at once
LEASE = timedelta(minutes=5)  # longer than one attempt can take (SMTP_TIMEOUT_SECONDS a step)
BACKOFF = [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10)]
BACKOFF_CAP = timedelta(minutes=30)
MAX_ATTEMPTS = 20
GIVE_UP_AFTER = timedelta(hours=24)


def refused_for_good(error):
    """Did the server refuse every recipient with a permanent (5xx) answer?"""
    if not isinstance(error, smtplib.SMTPRecipientsRefused) or not error.recipients:
        return False
    return all(code >= 500 for code, _ in error.recipients.values())


def backoff(attempts):
    """The wait after the ``attempts``-th failure (1 for the first)."""
    return BACKOFF[attempts - 1] if attempts <= len(BACKOFF) else BACKOFF_CAP


class MailSender:
    def __init__(self, app, clock=utcnow):
        self.app = app
        self.clock = clock
        self.poll_seconds = POLL_SECONDS
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = None

    def poke(self):
        """A mail was queued: try the due ones now rather than at the next poll."""
        self._wake.set()

    def deliver_due(self):
        """Try every mail due now, a batch at a time; the number sent.

        Each mail tried leaves the due ones (sent, or due again later), and so does each
        one another sender claimed first: the rounds end.
        """
        sent = 0
        with self.app.app_context():
            batch = [None] * BATCH
            while len(batch) == BATCH and not self._stopped.is_set():
                batch = mail_outbox.due(self.clock(), BATCH)
                for mail_id, seen_at in batch:
                    mail = mail_outbox.claim(mail_id, seen_at, self.clock() + LEASE)
                    if mail is not None:
                        sent += self._attempt(mail)
        return sent

    def _attempt(self, mail):
        try:
            transport.deliver(
                self.app.config, mail["sender"], mail["recipient"], bytes(mail["message"])
            )
        except Exception as error:  # smtplib's, ssl's, OSError: the server, not the mail
            self._failed(mail, f"{type(error).__name__}: {error}", refused_for_good(error))
            return 0
        mail_outbox.remove(mail["_id"], mail["lease_owner"])
        log.info("mail %s (%s) sent", mail["_id"], mail["template"])
        return 1

    def _failed(self, mail, reason, final=False):
        attempts = mail["attempts"] + 1
        now = self.clock()
        too_old = now - as_utc(mail["created_at"]) >= GIVE_UP_AFTER
        if final or attempts >= MAX_ATTEMPTS or too_old:
            mail_outbox.remove(mail["_id"], mail["lease_owner"])
            log.error(
                "mail %s (%s) given up after %d attempts: %s",
                mail["_id"],
                mail["template"],
                attempts,
                reason,
            )
            return
        mail_outbox.retry_at(mail["_id"], mail["lease_owner"], now + backoff(attempts), reason)
        log.warning(
            "mail %s (%s) not sent, attempt %d: %s", mail["_id"], mail["template"], attempts, reason
        )

    def start(self):
        self._thread = threading.Thread(target=self._loop, name="mail-sender", daemon=True)
        self._thread.start()

    def _loop(self):
        while not self._stopped.is_set():
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
            if self._stopped.is_set():
                return
            try:
                self.deliver_due()
            except Exception:  # the database may be away; the next poll tries again
                log.warning("mail delivery round failed", exc_info=True)

    def stop(self):
        """Before the database client closes."""
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
