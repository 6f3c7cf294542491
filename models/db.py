"""The one module that owns the MongoDB connection.

One ``MongoClient`` per app (so per process) with a short server-selection
timeout: while MongoDB is unreachable, a query fails within about two seconds
and the error handler answers 503 instead of hanging a worker. Start-up work
(indexes, the admin account) runs once the database first answers, so an API
started before its database recovers by itself, without a restart.
"""

import logging
import os
import signal
import threading
from urllib.parse import urlsplit

from flask import current_app
from pymongo import MongoClient

log = logging.getLogger(__name__)

DEFAULT_DATABASE = "video_app"
MOCK_SCHEME = "mongomock://"


def make_client(uri, timeout_ms):
    """A pymongo client, or a mongomock one for ``mongomock://`` URIs (unit tests)."""
    if uri.startswith(MOCK_SCHEME):
        return _mongomock_client(uri)
    return MongoClient(
        uri,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        tz_aware=True,
        appname="video-app",
    )


# One in-memory "server" per mongomock URI, so two apps on the same URI share
# data as they would on a real server (a restart, several workers).
_mock_servers = {}


def _mongomock_client(uri):
    import mongomock  # a test dependency only
    import mongomock.gridfs
    from mongomock.store import ServerStore
    from pymongo.client_options import ClientOptions

    mongomock.gridfs.enable_gridfs_integration()
    store = _mock_servers.setdefault(uri, ServerStore())
    client = mongomock.MongoClient(
        "mongodb://" + uri[len(MOCK_SCHEME) :], tz_aware=True, _store=store
    )
    # pymongo 4.20's GridFSBucket reads client.options.timeout, which
    # mongomock lacks (docs/operations.md#the-embedded-server): give it pymongo's own defaults.
    client.options = ClientOptions(None, None, DEFAULT_DATABASE, {})
    _bulk_updates_take_sort(mongomock.collection.BulkOperationBuilder)
    return client


def _bulk_updates_take_sort(builder):
    """pymongo 4.20's UpdateOne hands ``sort`` to mongomock's bulk builder, which has no
    such parameter (models.counter_buffer writes in bulk): accept it when unset."""
    original = builder.add_update
    if getattr(original, "takes_sort", False):
        return

    def add_update(self, *args, sort=None, **kwargs):
        if sort is not None:
            raise NotImplementedError("mongomock: a sorted update in a bulk write")
        return original(self, *args, **kwargs)

    add_update.takes_sort = True
    builder.add_update = add_update


def database_name(uri):
    path = urlsplit(uri.replace(MOCK_SCHEME, "mongodb://", 1)).path.strip("/")
    return path or DEFAULT_DATABASE


class StartupRefused(RuntimeError):
    """A start-up task found that this service must not run as configured; says why."""


def terminate_this_process():
    """Stop as ``docker stop`` would ask: SIGTERM to this process.

    A gunicorn worker then exits, and the worker that replaces it meets the same
    refusal while it starts, which stops gunicorn itself; a development server stops.
    """
    os.kill(os.getpid(), signal.SIGTERM)


class Mongo:
    """The client, the database, and the start-up tasks still to run."""

    def __init__(self, uri, timeout_ms, stop_process=terminate_this_process):
        self.uri = uri
        self.client = make_client(uri, timeout_ms)
        self.database = self.client[database_name(uri)]
        self.stop_process = stop_process
        self._startup_tasks = []
        self._ready = False
        self._starting = False
        # Re-entrant: start-up tasks query through get_db() themselves.
        self._lock = threading.RLock()

    def on_ready(self, task):
        """Run ``task(database)`` once the database first answers (idempotent tasks only).

        A task that finds the service must not run raises StartupRefused: at start-up it
        goes through ``create_app`` (the process does not start); when the database was
        away then and the tasks run on first use instead, the process is stopped.
        """
        self._startup_tasks.append(task)

    def ready_database(self):
        """The database, after the start-up tasks have run once."""
        if not self._ready:
            try:
                self._start()
            except StartupRefused:
                self.stop_process()
                raise
        return self.database

    def _start(self):
        with self._lock:
            if not self._ready and not self._starting:
                self._run_startup_tasks()

    def _run_startup_tasks(self):
        self._starting = True
        try:
            for task in self._startup_tasks:
                task(self.database)
            self._ready = True
            log.info("database ready: %s", self.database.name)
        except StartupRefused as error:
            log.critical("start-up refused, the service stops: %s", error)
            raise
        finally:
            self._starting = False

    def try_startup(self):
        """Run the start-up tasks now; log and carry on if MongoDB is not there yet.

        StartupRefused goes through, to stop the start-up.
        """
        from pymongo.errors import PyMongoError

        try:
            self._start()
        except PyMongoError as error:
            log.warning("database not reachable at start-up, will retry: %s", error)

    def ping(self):
        self.client.admin.command("ping")


def init_app(app):
    # Tests never signal the test runner: they give their own ``stop_process`` when they
    # exercise it.
    stop_process = _not_in_tests if app.testing else terminate_this_process
    mongo = Mongo(app.config["MONGODB_URI"], app.config["MONGODB_TIMEOUT_MS"], stop_process)
    app.extensions["mongo"] = mongo
    return mongo


def _not_in_tests():
    log.critical("(testing: the process is not stopped)")


def get_mongo():
    return current_app.extensions["mongo"]


def get_db():
    """The application database; models call this for every query."""
    return get_mongo().ready_database()
