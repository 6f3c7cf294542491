"""The sandbox's webhook deliverer: POSTs the queued events to the API, as Stripe would.

Each event (models.sandbox_payment outbox) is claimed under a lease, so two processes never
post it at once; it is signed afresh at every attempt (a new ``t``), with the same body and
event id. A 2xx answer deletes it; anything else, or no answer, waits ``backoff`` and tries
again (1 s, 5 s, 30 s, 2 min, then every 10 min) up to ``MAX_ATTEMPTS``. A Sweeper polls
every ``POLL_SECONDS``; a new event pokes it to try at once.

``transport(url, body, headers) -> status`` is injectable: tests post through the Flask test
client; the default is a real HTTP POST (urllib).
"""

import logging
import threading
import urllib.error
import urllib.request
from datetime import timedelta

from models import sandbox_payment as store
from models.common import utcnow
from services.payments import signing
from services.sweeper import Sweeper

log = logging.getLogger(__name__)

POLL_SECONDS = 5
BATCH = 20
LEASE = timedelta(seconds=60)  # longer than one POST may take (TIMEOUT_SECONDS)
TIMEOUT_SECONDS = 15
BACKOFF = [timedelta(seconds=1), timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=2)]
BACKOFF_CAP = timedelta(minutes=10)
MAX_ATTEMPTS = 50  # about 8 hours of retries


def backoff(attempts):
    return BACKOFF[attempts - 1] if attempts <= len(BACKOFF) else BACKOFF_CAP


def http_post(url, body, headers):
    """POST ``body`` to ``url``; the answer's status (an HTTP error's too)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class WebhookDeliverer:
    def __init__(self, app, transport=http_post, clock=utcnow):
        self.app = app
        self.transport = transport
        self.clock = clock
        self.secret = app.config["SANDBOX_WEBHOOK_SECRET"]
        self._sweeper = Sweeper("sandbox-webhooks", POLL_SECONDS, self.deliver_due)
        self.running = False

    def poke(self):
        """An event was queued: deliver it soon (a short-lived thread, when running)."""
        if self.running:
            threading.Thread(target=self._deliver_quietly, daemon=True).start()

    def _deliver_quietly(self):
        try:
            self.deliver_due()
        except Exception:  # the database may be away: the sweep tries again
            log.warning("delivering sandbox webhooks failed", exc_info=True)

    def deliver_due(self):
        """Try every event due now; the number delivered."""
        delivered = 0
        with self.app.app_context():
            batch = [None] * BATCH
            while len(batch) == BATCH:
                batch = store.due_events(self.clock(), BATCH)
                for event_id, seen_at in batch:
                    event = store.claim_event(event_id, seen_at, self.clock() + LEASE)
                    if event is not None:
                        delivered += self._attempt(event)
        return delivered

    def _attempt(self, event):
        body = event["payload"].encode()
        headers = {
            "Content-Type": "application/json",
            signing.HEADER: signing.header(self.secret, body),
            "User-Agent": "video-app-sandbox-webhooks/1",
        }
        try:
            status = self.transport(event["url"], body, headers)
        except Exception as error:  # the API away (connection refused, timeout)
            return self._failed(event, f"{type(error).__name__}: {error}")
        if 200 <= status < 300:
            store.delivered(event["_id"], event["lease_owner"])
            return 1
        return self._failed(event, f"HTTP {status}")

    def _failed(self, event, error):
        attempts = event["attempts"] + 1
        if attempts >= MAX_ATTEMPTS:
            log.error("sandbox webhook %s given up after %d attempts", event["_id"], attempts)
            store.delivered(event["_id"], event["lease_owner"])
            return 0
        log.info("sandbox webhook %s failed (%s); retrying", event["_id"], error)
        store.retry_event(
            event["_id"], event["lease_owner"], self.clock() + backoff(attempts), error
        )
        return 0

    def start(self):
        self.running = True
        self._sweeper.start()

    def stop(self):
        self.running = False
        self._sweeper.stop()
