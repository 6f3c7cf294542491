"""The checks of a byte request, remembered for half a second by the process that made them.

A player asks for many ranges of one video: AVPlayer reopens ``bytes=N-`` again and again,
a seek fetches new ranges, hls.js fetches a segment every few seconds. Each request made the
same checks with the same answer: the session, the user, the video, who may watch it and its
file, four database reads or more. What a playback token was granted is kept here for
``REMEMBER_SECONDS``, keyed by the verified token's ``jti`` and what it asked for; the token
itself is still verified (signature, expiry, video) on every request.

How soon a change stops a player:
- a change made through this process (logout, refund, purge, a role or visibility change:
  any POST, PUT, PATCH or DELETE that it answers) forgets everything at once
  (``forget_all``, after the response);
- a change made elsewhere (another worker or host, a sweep, a webhook another process took)
  is seen within REMEMBER_SECONDS: the contract asks for one second.

Only grants are remembered, never refusals: a refused request is checked again in full.

One process makes a key's checks once at a time: the requests for it that arrive while they
run wait for their answer (``check_once``). Under load every range that came in during the
checks made its own (bench/ranges.py: 25 threads a process, half a second apart).
"""

import threading
import time
from collections import OrderedDict

from flask import current_app, request

REMEMBER_SECONDS = 0.5
CAPACITY = 10_000  # grants per process, the least recent go first
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class PlaybackMemo:
    """Grants by key, each valid for ``seconds`` and only while no change was made since."""

    def __init__(self, seconds=REMEMBER_SECONDS, capacity=CAPACITY, clock=time.monotonic):
        self.seconds, self.capacity, self.clock = seconds, capacity, clock
        self._items = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0  # bumped by every change: older grants are void
        self._running = {}  # key -> threading.Event set when its checks are done

    def generation(self):
        """Read before the checks; ``keep`` stores their answer only if it has not moved."""
        return self._generation

    def get(self, key):
        with self._lock:
            return self._get(key)

    def _get(self, key):
        found = self._items.get(key)
        if found is None:
            return None
        generation, expires, value = found
        if generation != self._generation or expires <= self.clock():
            del self._items[key]
            return None
        return value

    def keep(self, key, generation, value):
        with self._lock:
            if generation != self._generation:
                return  # a change happened while the checks ran: their answer may be stale
            now = self.clock()
            self._items[key] = (generation, now + self.seconds, value)
            self._items.move_to_end(key)
            self._drop_expired(now)
            if len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def _drop_expired(self, now):
        """Kept in the order they were kept, so the expired ones are at the front."""
        while self._items:
            _, expires, _ = next(iter(self._items.values()))
            if expires > now:
                return
            self._items.popitem(last=False)

    def check_once(self, key, check):
        """``check()``'s answer, kept; while it runs, the same key's requests wait for it and
        take what it kept. One that finds nothing kept after (a refusal, a failure, a change
        made meanwhile) makes its own checks, as it would have."""
        with self._lock:
            found = self._get(key)  # kept by checks that finished since the caller looked
            if found is not None:
                return found
            running = self._running.get(key)
            first = running is None
            if first:
                running = self._running[key] = threading.Event()
        if not first:
            running.wait()
            found = self.get(key)
            return found if found is not None else self._check(key, check)
        try:
            return self._check(key, check)
        finally:
            with self._lock:
                del self._running[key]
            running.set()

    def _check(self, key, check):
        generation = self.generation()
        answer = check()
        self.keep(key, generation, answer)
        return answer

    def forget_all(self):
        with self._lock:
            self._generation += 1
            self._items.clear()


def init_app(app):
    app.extensions["playback_memo"] = PlaybackMemo()
    app.after_request(_forget_after_a_change)


def _forget_after_a_change(response):
    if request.method in MUTATING:
        current_app.extensions["playback_memo"].forget_all()
    return response


def remembered(key, check):
    """``check()``'s answer for ``key``: remembered, or checked now and kept."""
    memo = current_app.extensions["playback_memo"]
    found = memo.get(key)
    if found is not None:
        return found
    return memo.check_once(key, check)
