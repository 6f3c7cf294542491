"""The fills of one process: a few background threads and a short queue.

The request that misses asks for a fill and is served from GridFS at once; a fill is a
whole-file read from MongoDB, so at most ``threads`` run at a time in a process (they take
their turn at the StreamGate like any stream) and at most ``max_pending`` wait. A key
already queued or running is not queued again; past ``max_pending`` a request is dropped:
the next miss asks again.

Threads start with the first fill of the process that asks (gunicorn forks its workers
before any request; a thread does not survive a fork), and stop at ``close()``.
"""

import collections
import logging
import os
import threading
import time

log = logging.getLogger(__name__)


class FillPool:
    def __init__(self, run, threads=2, max_pending=32):
        self._run = run  # run(job): one fill, in a pool thread; its errors are logged here
        self._threads_wanted, self._max_pending = threads, max_pending
        self._jobs = collections.deque()
        self._keys = set()  # of the jobs queued or running
        self._running = 0
        self._closed = False
        self._changed = threading.Condition()
        self._threads, self._pid = [], os.getpid()

    def submit(self, key, job):
        """Queue ``job`` unless ``key`` is queued or running, or the queue is full."""
        with self._changed:
            self._after_fork()
            if self._closed or key in self._keys or len(self._jobs) >= self._max_pending:
                return False
            self._keys.add(key)
            self._jobs.append((key, job))
            self._start_threads()
            self._changed.notify()
            return True

    def _after_fork(self):
        """A child of a fork inherits the parent's queue but none of its threads."""
        if self._pid != os.getpid():
            self._pid, self._threads = os.getpid(), []
            self._jobs.clear()
            self._keys.clear()
            self._running = 0

    def _start_threads(self):
        while len(self._threads) < self._threads_wanted:
            thread = threading.Thread(target=self._work, name="media-cache-fill", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _work(self):
        while (item := self._next()) is not None:
            key, job = item
            try:
                self._run(job)
            except Exception:  # a fill is an optimisation: log it, keep the thread
                log.exception("media cache fill of %s failed", key)
            finally:
                with self._changed:
                    self._running -= 1
                    self._keys.discard(key)
                    self._changed.notify_all()

    def _next(self):
        with self._changed:
            self._changed.wait_for(lambda: self._jobs or self._closed)
            if self._closed:
                return None
            self._running += 1
            return self._jobs.popleft()

    def wait_idle(self, timeout):
        """True once nothing is queued or running (tests; shutdown)."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._jobs and not self._running, timeout)

    def close(self, timeout=5.0):
        """Stop taking fills; wait up to ``timeout`` for the running ones to end."""
        with self._changed:
            self._closed = True
            self._jobs.clear()
            self._changed.notify_all()
            threads = list(self._threads) if self._pid == os.getpid() else []
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0))
