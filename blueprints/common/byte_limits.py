"""The per-token limit of the byte routes (media, thumbnail, HLS), counted in batches.

flask-limiter's decorator cost a media range three database operations (a ``findAndModify``
to count, two ``find``s for ``X-RateLimit-*`` headers players never read), and on the
embedded server the count alone held the route to ~140 ranges/s (bench/ranges.py: ~400 with
limits off). Players ask for many ranges with one token, so each process counts a token's
requests in memory and adds them to the shared counter (flask-limiter's storage, the same
fixed window, every worker's) in one increment at most every ``SYNC_SECONDS``, and on every
request once the count is near the limit:

- a refusal is always decided on the shared count, just written;
- what may pass unseen by the other processes is at most ``SYNC_SECONDS`` of each process's
  requests per token: at a player's pace (a few ranges a second) a limit of 600 a minute
  stays one within a request or two per process;
- a process that stops loses its unwritten count (at most SYNC_SECONDS' worth);
- one increment per token is in flight at a time, away from the limit: the requests that
  arrive while it is written are counted for the next one (under load every request that
  came in during a slow increment made its own: bench/ranges.py, 25 threads a process).

Written by hand for that measurement; every other route keeps flask-limiter's decorator.
"""

import functools
import logging
import math
import threading
import time
from collections import OrderedDict

from flask import current_app, request
from limits import parse
from werkzeug.exceptions import TooManyRequests

from extensions import limiter

log = logging.getLogger(__name__)
SCOPE = "byte-routes"


def per_token(limit_setting, key_func):
    """Decorate a byte route: ``app.config[limit_setting]`` requests per ``key_func()`` key."""

    def decorate(view):
        @functools.wraps(view)
        def limited(*args, **kwargs):
            _count(current_app.config[limit_setting], key_func)
            return view(*args, **kwargs)

        limited.counted_per_token = True  # flask-limiter's hook skips it (init_app)
        return limiter.exempt(limited)  # the per-address default does not apply to bytes

    return decorate


def init_app(app):
    """flask-limiter's before_request skips the byte routes (after ``limiter.init_app``).

    Exempt from every limit of flask-limiter's (default, application, meta) and decorated
    with none, a byte route got nothing from that hook but its cost: ~6% of a short media
    range's CPU (py-spy on the workers, bench/ranges.py) to find, every time, that no limit
    applies. Skipped by hand for that; every other route still goes through it.
    """
    hooks = app.before_request_funcs.get(None, [])
    generic = limiter._check_request_limit
    if generic not in hooks:  # RATELIMIT_ENABLED false: flask-limiter hooked nothing
        return
    index = hooks.index(generic)

    def check_request_limit():
        view = app.view_functions.get(request.endpoint)
        if getattr(view, "counted_per_token", False):
            return None
        return generic()

    hooks[index] = check_request_limit


@functools.lru_cache(maxsize=16)
def _parsed(text):
    return parse(text)


def _count(limit_text, key_func):
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    limit, key = _parsed(limit_text), key_func()
    try:
        allowed = _COUNTS.hit(limiter.storage, limit, limit.key_for(SCOPE, key))
    except Exception:  # as RATELIMIT_SWALLOW_ERRORS: a store that is down never stops playback
        log.exception("rate limit storage failed; the byte request goes on")
        return
    if not allowed:
        raise TooManyRequests(description=str(limit), retry_after=_retry_after(limit, key))


SYNC_SECONDS = 0.25
TOKENS_KEPT = 10_000  # per process; past it the least recent token's unwritten count is lost


class BatchedCounts:
    """Per storage key: the shared count last read, the requests not yet added to it, when it
    was last read and how many increments of it are being written."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._entries = OrderedDict()  # storage key -> [shared, pending, synced_at, in_flight]
        self._lock = threading.Lock()

    def hit(self, storage, limit, storage_key):
        with self._lock:
            entry = self._entries.get(storage_key)
            if entry is None:
                entry = self._entries[storage_key] = [0, 0, None, 0]
                if len(self._entries) > TOKENS_KEPT:
                    self._entries.popitem(last=False)
            self._entries.move_to_end(storage_key)
            entry[1] += 1
            if not self._due(entry, limit):
                return True
            pending, entry[1] = entry[1], 0
            entry[3] += 1
        try:
            shared = storage.incr(storage_key, limit.get_expiry(), amount=pending)
        except BaseException:
            with self._lock:
                entry[3] -= 1
            raise
        with self._lock:
            entry[0], entry[2] = shared, self.clock()
            entry[3] -= 1
        return shared <= limit.amount

    def _due(self, entry, limit):
        shared, pending, synced_at, in_flight = entry
        return (
            synced_at is None
            or shared + pending >= limit.amount
            or (not in_flight and self.clock() - synced_at >= SYNC_SECONDS)
        )


_COUNTS = BatchedCounts()


def _retry_after(limit, key):
    try:
        reset_at, _ = limiter.limiter.get_window_stats(limit, SCOPE, key)
    except Exception:
        return limit.get_expiry()
    return max(1, math.ceil(reset_at - time.time()))
