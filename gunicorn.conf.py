"""gunicorn settings: `gunicorn -c gunicorn.conf.py "app:create_app()"`.

Threaded workers (gthread): a long media stream holds one thread, not a whole
worker, so streams do not starve the API. Bind and workers may be overridden
on the command line or by GUNICORN_BIND / GUNICORN_WORKERS / GUNICORN_THREADS.
"""

import multiprocessing
import os

from web.http_worker import MAX_WAITING

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:5000")
# One process per core: threads give each its concurrency, and every process
# more keeps one more stream's chunk fetch queued at MongoDB ahead of API
# queries (bench/stream.py: /auth/me p95 under 50 streams, 4 workers ~70 ms,
# 2 workers ~40 ms, on 2 cores).
workers = int(os.environ.get("GUNICORN_WORKERS", max(2, multiprocessing.cpu_count())))
# gthread, guarded (web/http_worker/): a thread serves a connection only while
# its request is complete and its client reads. Half-sent requests wait in the
# worker's poller (15 s at most for the head and a body of up to 64 KiB); a
# response whose client stops reading for 0.05 s is parked there (its thread
# goes back to the pool) and resumed when the client reads again. Measured
# (tests/test_hostile_connections.py): with 200 half-sent requests and 200
# paused players held open, /health answers in a few ms; plain gthread stops
# answering at 64 of either. The 0.05 s is not a cut-off: a parked stream only
# waits for the poller to wake it, so a slow honest reader loses nothing.
# Real players pause reading when their buffer is full or the viewer pauses: a
# parked stream costs a socket and a chunk (255 KB) of memory, and is dropped
# only after 5 minutes paused (or when 1000 are parked in one process, the
# oldest first); the player then resumes with a Range, as after any network
# drop. Shorter would cut honest pauses to save memory that the proxy's
# per-address connection limit bounds better.
# A file body (the media cache's copies) goes out with sendfile from a second
# pool of `threads` sender threads per worker at nice +10 (senders.py): the
# kernel's copy is charged to the thread that calls it, and 50 saturating
# streams on 2 cores kept a request thread waiting among 50 runnable senders.
worker_class = "web.http_worker.GuardedThreadWorker"
threads = int(os.environ.get("GUNICORN_THREADS", 32))
# A worker takes new connections only while it has a free thread. gthread's
# default lets one worker take 35 of 50 new streams and queue 19 behind its
# busy threads, where they get no byte and an API call waits seconds (measured
# with bench/stream.py); this way the rest stay in the listen backlog for a
# worker with a free thread. worker_connections bounds everything a worker
# holds: busy threads, requests still arriving and parked responses.
worker_connections = threads + 2 * MAX_WAITING
# Keep-alive for 5 s: a player asks for range after range (bench/ranges.py: 300 KB ranges,
# ~30% more per second than a new connection each). An idle kept-alive connection waits in
# the worker's poller (no thread) and its next request is read like a new one (15 s for its
# head); the proxy in front (docker compose) talks HTTP/1.0 to the API, which closes anyway.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))
timeout = 120
graceful_timeout = 30
# Each worker opens its own MongoClient after the fork (no preload).
preload_app = False
accesslog = None  # the app logs each request itself, with tokens redacted
errorlog = "-"
# gunicorn's own lines as JSON too, through the app's formatter (tokens redacted).
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "web.logs.JsonFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {"gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False}},
    # gunicorn merges this over its defaults shallowly: its root names a handler
    # ("console") that the dict above replaces, so root must be given too.
    "root": {"level": "INFO", "handlers": ["stderr"]},
}


def worker_exit(server, worker):
    """A worker leaving (a restart, max_requests, shutdown) first writes the audit entries and
    engagement counters it still holds in memory: they live only in this process
    (app.stop_background_work). ``worker.wsgi`` is the app that ``create_app()`` returned."""
    app = getattr(worker, "wsgi", None)
    if hasattr(app, "extensions"):
        from app import stop_background_work

        stop_background_work(app)
