"""Counter increments merged in memory and written in bulk, off the request's path
(docs/analytics.md#when-the-counters-are-written).

``CounterBuffer.add`` merges an ``$inc`` (and its ``$setOnInsert``) into a map keyed by
(collection, ``_id``) and returns without a database call; a flusher thread, started when
there is work and gone when idle, writes the map every ``FLUSH_SECONDS`` with one unordered
``bulk_write`` per collection. However many events, the database sees a handful of writes a
second. Increments add up, so several processes flushing the same documents stay exact.

What is guaranteed:

- after a flush, the counters equal the events: an op is written once, or kept to retry, or
  logged at ERROR with its content as lost; never doubled, never dropped in silence;
- ``flush`` writes everything this process added before the call (the reports call it first);
- a write the database did not apply (no server, a command refused whole, a write error of
  some ops in a bulk) keeps the ops it did not apply (``BulkWriteError``'s indexes say which),
  merged back, and retries them backing off up to ``RETRY_MOST`` s; an op that a write error
  refuses ``ATTEMPTS`` times is logged as lost;
- a network error in the middle of a bulk leaves unknown which ops applied: they are logged at
  ERROR as possibly lost rather than retried (a retry could count them twice);
- ``stop`` (app.stop_background_work) and the interpreter's normal exit write what is left;
  what they cannot is logged at ERROR. A process killed outright (SIGKILL, a crash) loses the
  increments of at most the last ``FLUSH_SECONDS`` (more while the database is away);
- at most ``KEY_LIMIT`` keys: an add that would pass it writes the map on the caller's thread.
"""

import atexit
import logging
import threading
import time
import weakref
from collections import defaultdict

from pymongo import UpdateOne
from pymongo.errors import (
    BulkWriteError,
    InvalidOperation,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)

from models.db import get_db

log = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0
KEY_LIMIT = 100_000
RETRY_MOST = 30.0
ATTEMPTS = 5
IDLE_SECONDS = 5.0
STOP_SECONDS = 10.0
# A flusher's write in flight ends within the driver's timeouts (MONGODB_TIMEOUT_MS, 2 s by
# default); stop() waits this long for it even when its own deadline has passed, so that what
# the write could not place is logged before stop() returns.
IN_FLIGHT_SECONDS = 5.0

_live = weakref.WeakSet()  # the buffers the interpreter's exit flushes


class CounterBuffer:
    """The process's pending increments and the thread that writes them (one per app)."""

    def __init__(self, app, limit=None, interval=None):
        self.app = app
        self.limit, self.interval = limit or KEY_LIMIT, interval or FLUSH_SECONDS
        self._pending = {}
        self._changed = threading.Condition()
        self._writing = 0  # batches taken from the map and not settled yet
        self._thread = None
        self._stopping = threading.Event()
        # For tests and operators: bulk writes made, ops written, failed writes, ops lost.
        self.bulk_writes = self.written = self.failed_writes = self.lost = 0
        _live.add(self)

    def add(self, collection, key, inc, on_insert=None, upsert=True):
        """Merge ``inc`` into the pending update of ``collection``'s document ``key``."""
        with self._changed:
            full = len(self._pending) >= self.limit and (collection, key) not in self._pending
            if not self._pending:
                self._changed.notify_all()  # wakes an idle flusher
            _merge(self._pending, (collection, key), _entry(inc, on_insert, upsert))
            stopped = self._stopping.is_set()
            if not (full or stopped):
                self._ensure_thread()
                return
        self._write_now()  # full (memory stays bounded) or stopped: on the caller's thread
        if stopped:
            self._lose_pending("the buffer has stopped (shutdown)")

    def flush(self, timeout):
        """Write what this process added before the call; True when all of it is written."""
        with self._changed:
            if not self._changed.wait_for(lambda: not self._writing, timeout):
                return False
            batch = self._take()
        return self._settle(batch)

    def stop(self, seconds=None):
        """At shutdown: write what is pending (retrying for ``STOP_SECONDS``), log the rest."""
        seconds = STOP_SECONDS if seconds is None else seconds
        deadline = time.monotonic() + seconds
        written = self.flush(seconds)
        while not written and time.monotonic() < deadline:
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
            written = self.flush(max(0.0, deadline - time.monotonic()))
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
            # A flusher write in flight holds its batch outside the map: let it settle first
            # (what it could not write then comes back to the map, or is logged by _settle).
            remaining = max(IN_FLIGHT_SECONDS, deadline - time.monotonic())
            self._changed.wait_for(lambda: not self._writing, remaining)
        self._lose_pending("not written at shutdown")
        return written

    def pending(self):
        with self._changed:
            return len(self._pending)

    def _ensure_thread(self):
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="counter-flusher", daemon=True)
            self._thread.start()

    def _run(self):
        delay = self.interval
        while True:
            with self._changed:
                self._changed.wait_for(
                    lambda: self._pending or self._stopping.is_set(), IDLE_SECONDS
                )
                if not self._pending or self._stopping.is_set():
                    self._thread = None  # idle or stopped: a later add starts another
                    return
            if self._stopping.wait(delay):
                with self._changed:
                    self._thread = None
                return
            written = self._write_now()
            delay = self.interval if written else min(max(delay, 0.5) * 2, RETRY_MOST)

    def _take(self):
        """The pending map, now this caller's to write (the lock held)."""
        batch, self._pending = self._pending, {}
        self._writing += 1 if batch else 0
        return batch

    def _write_now(self):
        with self._changed:
            batch = self._take()
        return self._settle(batch)

    def _settle(self, batch):
        """Write ``batch``; merge back what is to retry; True when nothing is."""
        if not batch:
            return True
        retry = {}
        try:
            retry = self._write(batch)
        finally:
            late = []
            with self._changed:
                if self._stopping.is_set():
                    late = list(retry.items())  # stop() logs the map, not these
                else:
                    for key, entry in retry.items():
                        _merge(self._pending, key, entry)
            self._lose(late, "not written at shutdown")
            with self._changed:  # settled only once logged: stop() returns after this
                self._writing -= 1
                self._changed.notify_all()
        return not retry

    def _write(self, batch):
        """One unordered bulk per collection; {key: entry} of the ops to retry."""
        grouped = defaultdict(list)
        for key, entry in batch.items():
            grouped[key[0]].append((key, entry))
        retry, away = {}, False
        for name, items in grouped.items():
            # Once no server answered, the other collections wait for the next attempt.
            failed = dict(items) if away else self._write_collection(name, items)
            away = away or failed is None
            retry.update(dict(items) if failed is None else failed)
        return retry

    def _write_collection(self, name, items):
        """{key: entry} of the ops to retry; None when no server answered (retry them all)."""
        ops = [UpdateOne({"_id": key[1]}, _update(e), upsert=e["upsert"]) for key, e in items]
        try:
            self.bulk_writes += 1
            with self.app.app_context():
                get_db()[name].bulk_write(ops, ordered=False)
        except BulkWriteError as error:
            return self._partly_written(name, items, error.details)
        except (ServerSelectionTimeoutError, OperationFailure) as error:
            # No server chosen, or the command refused as a whole: nothing was applied.
            self.failed_writes += 1
            log.warning("counters of %s not written yet (%s); retrying", name, error)
            return None  # all of them
        except InvalidOperation:  # the client is closed: this app is gone
            self._lose(items, "the database client is closed")
            return {}
        except PyMongoError:
            log.exception("counters of %s: the bulk write broke off", name)
            self._lose(items, "unknown whether written (not retried: never counted twice)")
            return {}
        except Exception:  # ops the driver cannot even send: retrying would not help
            log.exception("counters of %s refused", name)
            self._lose(items, "refused by the driver")
            return {}
        self.written += len(items)
        return {}

    def _partly_written(self, name, items, details):
        """The ops a BulkWriteError names went unwritten: to retry, or lost after ATTEMPTS."""
        self.failed_writes += 1
        failed = {error["index"]: error for error in details.get("writeErrors", [])}
        self.written += len(items) - len(failed)
        if details.get("writeConcernErrors"):  # written; only the concern was not met
            log.warning("counters of %s: %s", name, details["writeConcernErrors"])
        retry, lost = {}, []
        for index in sorted(failed):
            key, entry = items[index]
            entry["attempts"] += 1
            if entry["attempts"] >= ATTEMPTS:
                lost.append((key, entry))
            else:
                retry[key] = entry
            log.warning("counter op of %s refused: %s", name, failed[index].get("errmsg"))
        self._lose(lost, f"refused {ATTEMPTS} times")
        return retry

    def _lose_pending(self, why):
        with self._changed:
            items, self._pending = list(self._pending.items()), {}
        self._lose(items, why)

    def _lose(self, items, why):
        self.lost += len(items)
        for (name, key), entry in items:
            content = {"collection": name, "_id": key, **_update(entry)}
            log.error("counter increments lost: %s", why, extra={"counters": content})


def _entry(inc, on_insert, upsert):
    return {"inc": dict(inc), "insert": dict(on_insert or {}), "upsert": upsert, "attempts": 0}


def _merge(pending, key, entry):
    found = pending.get(key)
    if found is None:
        pending[key] = entry
        return
    for name, value in entry["inc"].items():
        found["inc"][name] = found["inc"].get(name, 0) + value
    found["attempts"] = max(found["attempts"], entry["attempts"])


def _update(entry):
    update = {"$inc": entry["inc"]}
    if entry["upsert"] and entry["insert"]:
        update["$setOnInsert"] = entry["insert"]
    return update


@atexit.register
def _write_at_exit():
    """A normal exit (a gunicorn worker's, a script's) writes what is pending."""
    for buffer in list(_live):
        if not buffer._stopping.is_set() and buffer.pending():
            buffer.stop(seconds=2.0)  # one attempt or so: the exit must not hang
