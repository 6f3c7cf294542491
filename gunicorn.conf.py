"""gunicorn settings: `gunicorn -c gunicorn.conf.py "app:create_app()"`.

Threaded workers (gthread): a long media stream holds one thread, not a whole
worker, so streams do not starve the API. Bind and workers may be overridden
on the command line or by GUNICORN_BIND / GUNICORN_WORKERS / GUNICORN_THREADS.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:5000")
# One process per core: threads give each its concurrency, and every process
# more keeps one more stream's chunk fetch queued at MongoDB ahead of API
# queries (bench/stream.py: /auth/me p95 under 50 streams, 4 workers ~70 ms,
# 2 workers ~40 ms, on 2 cores).
workers = int(os.environ.get("GUNICORN_WORKERS", max(2, multiprocessing.cpu_count())))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 32))
# A worker accepts only as many connections as it has threads. gthread's
# default (1000) lets one worker take 35 of 50 new streams and queue 19 behind
# its busy threads, where they get no byte and an API call waits seconds
# (measured with bench/stream.py); at ``threads`` the rest stay in the listen
# backlog for a worker with a free thread. The cost: no idle keep-alive
# connections are kept (gthread keeps worker_connections - threads of them),
# so keepalive is 0: the load balancer in front keeps clients' connections.
worker_connections = threads
keepalive = 0
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
    "formatters": {"json": {"()": "blueprints.request_log.JsonFormatter"}},
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
