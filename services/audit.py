"""The audit log: every mutating API call recorded, written off the request's path.

``AuditWriter.submit`` puts an entry on a bounded in-process queue and returns at once (no
database call on the request's thread); a writer thread, started when there is work and gone
when idle, inserts them in batches. What is guaranteed (docs/audit.md):

- a request never fails or waits because of its entry (the hook swallows and logs any error);
- a write that fails (the database away) is retried, backing off up to ``RETRY_MOST`` seconds,
  for as long as the process lives; a retried batch is never doubled (each entry has its ``_id``);
- an entry is only ever lost with an ERROR log line that carries it (queue full at
  ``QUEUE_LIMIT``, a shutdown that could not write it in ``STOP_SECONDS``, an entry the database
  refuses); or when the process is killed outright (SIGKILL, a crash): then the entries of
  at most the last moments (whatever was queued) are gone, and that is the one silent loss.
"""

import collections
import itertools
import logging
import threading

from flask import current_app, g
from pymongo.errors import InvalidOperation, PyMongoError

from models import audit as records
from services import access, pagination
from services.errors import InvalidInput

log = logging.getLogger(__name__)

QUEUE_LIMIT = 10_000
BATCH = 500
RETRY_FIRST, RETRY_MOST = 0.5, 30.0
IDLE_SECONDS = 5.0
STOP_SECONDS = 10.0


class AuditWriter:
    """The process's queue of entries and the thread that writes them (one per app)."""

    def __init__(self, app, limit=QUEUE_LIMIT):
        self.app, self.limit = app, limit
        self._pending = collections.deque()
        self._changed = threading.Condition()
        self._thread = None
        self._stopping = threading.Event()
        # Counters for tests and operators: entries written, dropped, failed write attempts.
        self.written = self.dropped = self.failed_writes = 0

    def submit(self, entry):
        """Queue ``entry``; never blocks on the database, never raises for it."""
        with self._changed:
            refused = self._refusal()
            if refused:
                self.dropped += 1
            else:
                self._pending.append(entry)
                self._ensure_thread()
                self._changed.notify_all()
        if refused:
            log.error("audit entry dropped: %s", refused, extra={"audit": entry})

    def _refusal(self):
        if self._stopping.is_set():
            return "the writer has stopped (shutdown)"
        return "the queue is full" if len(self._pending) >= self.limit else None

    def flush(self, timeout):
        """Wait until every queued entry is written (True) or ``timeout`` passes (False)."""
        with self._changed:
            if self._pending:
                self._ensure_thread()
            return self._changed.wait_for(lambda: not self._pending, timeout)

    def stop(self):
        """At shutdown: write what is queued, then log whatever could not be."""
        written = self.flush(STOP_SECONDS)
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
            lost, self._pending = list(self._pending), collections.deque()
        for entry in lost:
            log.error("audit entry lost at shutdown", extra={"audit": entry})
        return written

    def _ensure_thread(self):
        if self._thread is None and not self._stopping.is_set():
            self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
            self._thread.start()

    def _run(self):
        delay = RETRY_FIRST
        while not self._stopping.is_set():
            with self._changed:
                if not self._changed.wait_for(lambda: self._pending, IDLE_SECONDS):
                    self._thread = None  # idle: a later submit starts another
                    return
                batch = list(itertools.islice(self._pending, BATCH))
            if self._write(batch):
                delay = RETRY_FIRST
                with self._changed:
                    for _ in batch:
                        self._pending.popleft()
                    self._changed.notify_all()
            else:
                self._stopping.wait(delay)
                delay = min(delay * 2, RETRY_MOST)
        with self._changed:
            self._thread = None

    def _write(self, batch):
        """True when the batch is settled (written, or refused and logged one by one)."""
        try:
            with self.app.app_context():
                records.insert_many(batch)
        except InvalidOperation:  # the client is closed: this app is gone, so are they
            self._stopping.set()
            self._lose(batch, "the database client is closed")
            return True
        except PyMongoError:
            self.failed_writes += 1
            log.warning("audit entries not written yet (%d queued); retrying", len(batch))
            return False
        except Exception:  # an entry the database can never take: retrying would not help
            log.exception("audit entries refused")
            self._lose(batch, "refused")
            return True
        self.written += len(batch)
        return True

    def _lose(self, batch, why):
        self.dropped += len(batch)
        for entry in batch:
            log.error("audit entry lost: %s", why, extra={"audit": entry})


def register(app):
    """The app's writer, and the collection's indexes (the TTL follows the setting)."""
    app.extensions["audit_log"] = AuditWriter(app)
    days = app.config["AUDIT_RETENTION_DAYS"]
    app.extensions["mongo"].on_ready(lambda database: records.create_indexes(database, days))


def note_actor(user):
    """Who the current call acts as when no access token says it (login, signup, refresh)."""
    g.audit_actor = user


def noted_actor():
    return g.get("audit_actor")


def submit(entry):
    current_app.extensions["audit_log"].submit(entry)


FLUSH_BEFORE_READ_SECONDS = 2.0


def query(caller, per_page, cursor=None, **filters):
    """(entries, pagination), newest first. Admins only. ``filters`` (already typed):
    ``actor`` (ObjectId), ``action``, ``target_type`` and ``target_id``, ``since``, ``until``.

    The process's own queued entries are written first (at most a short wait), so an admin
    sees what this process just did."""
    access.require_admin(caller)
    current_app.extensions["audit_log"].flush(FLUSH_BEFORE_READ_SECONDS)
    equality, keep = _filters(filters)
    since, until = filters.get("since"), filters.get("until")
    if since is not None and until is not None and since >= until:
        raise InvalidInput(
            "'from' must be before 'to'.", details={"from": ["Must be before 'to'."]}
        )
    shown = {key: value for key, value in filters.items() if value is not None}
    scope = pagination.list_scope("audit", **{k: _text(v) for k, v in shown.items()})
    return pagination.list_page(
        scope,
        cursor,
        per_page,
        lambda after, window: records.page(
            equality, per_page, after=after, since=since, until=until, keep=keep
        ),
    )


def _filters(filters):
    """(the equality an index serves, a check for the other filters): the most selective
    filter goes to the index (target, then actor, then action), the rest are checked here."""
    wanted = {}
    if filters.get("target_type") is not None:
        wanted["target.type"] = filters["target_type"]
        wanted["target.id"] = filters["target_id"]
    for name, field in (("actor", "actor_id"), ("action", "action")):
        if filters.get(name) is not None:
            wanted[field] = filters[name]
    fields = list(wanted)
    chosen = fields[:2] if fields[:1] == ["target.type"] else fields[:1]
    equality = {field: wanted[field] for field in chosen}
    rest = {field: wanted[field] for field in fields if field not in chosen}
    if not rest:
        return equality, None
    return equality, lambda document: all(_value(document, f) == v for f, v in rest.items())


def _value(document, dotted):
    for part in dotted.split("."):
        document = (document or {}).get(part)
    return document


def _text(value):
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
