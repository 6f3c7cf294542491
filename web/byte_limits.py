"""The per-token limit of the byte routes (media, thumbnail, HLS): one database write a request.

flask-limiter's decorator counted a request with one ``findAndModify`` and then read the
window twice more (two ``find``s) for the ``X-RateLimit-*`` headers: three of the four database
operations a media range cost once its checks were remembered (services/playback_memo.py).
Players never read those headers, so the byte routes count with the same storage and strategy
(flask-limiter's, shared by every worker) and read the window only to say ``Retry-After`` on
a 429. Written by hand for that measurement; everything else keeps flask-limiter's decorator.
"""

import functools
import logging
import math
import time

from flask import current_app
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

        return limiter.exempt(limited)  # the per-address default does not apply to bytes

    return decorate


@functools.lru_cache(maxsize=16)
def _parsed(text):
    return parse(text)


def _count(limit_text, key_func):
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    limit, key = _parsed(limit_text), key_func()
    try:
        allowed = limiter.limiter.hit(limit, SCOPE, key)
    except Exception:  # as RATELIMIT_SWALLOW_ERRORS: a store that is down never stops playback
        log.exception("rate limit storage failed; the byte request goes on")
        return
    if not allowed:
        raise TooManyRequests(description=str(limit), retry_after=_retry_after(limit, key))


def _retry_after(limit, key):
    try:
        reset_at, _ = limiter.limiter.get_window_stats(limit, SCOPE, key)
    except Exception:
        return limit.get_expiry()
    return max(1, math.ceil(reset_at - time.time()))
