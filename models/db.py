"""The one module that owns the MongoDB connection.

One ``MongoClient`` per app (so per process) with a short server-selection
timeout: while MongoDB is unreachable, a query fails within about two seconds
and the error handler answers 503 instead of hanging a worker. Start-up work
(indexes, the admin account) runs once the database first answers, so an API
started before its database recovers by itself, without a restart.
"""

import logging
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
    return client


def database_name(uri):
    path = urlsplit(uri.replace(MOCK_SCHEME, "mongodb://", 1)).path.strip("/")
    return path or DEFAULT_DATABASE


class Mongo:
    """The client, the database, and the start-up tasks still to run."""

    def __init__(self, uri, timeout_ms):
        self.uri = uri
        self.client = make_client(uri, timeout_ms)
        self.database = self.client[database_name(uri)]
        self._startup_tasks = []
        self._ready = False
        self._starting = False
        # Re-entrant: start-up tasks query through get_db() themselves.
        self._lock = threading.RLock()

    def on_ready(self, task):
        """Run ``task(database)`` once the database first answers (idempotent tasks only)."""
        self._startup_tasks.append(task)

    def ready_database(self):
        """The database, after the start-up tasks have run once."""
        if not self._ready:
            with self._lock:
                if not self._ready and not self._starting:
                    self._run_startup_tasks()
        return self.database

    def _run_startup_tasks(self):
        self._starting = True
        try:
            for task in self._startup_tasks:
                task(self.database)
            self._ready = True
            log.info("database ready: %s", self.database.name)
        finally:
            self._starting = False

    def try_startup(self):
        """Run the start-up tasks now; log and carry on if MongoDB is not there yet."""
        from pymongo.errors import PyMongoError

        try:
            self.ready_database()
        except PyMongoError as error:
            log.warning("database not reachable at start-up, will retry: %s", error)

    def ping(self):
        self.client.admin.command("ping")


def init_app(app):
    mongo = Mongo(app.config["MONGODB_URI"], app.config["MONGODB_TIMEOUT_MS"])
    app.extensions["mongo"] = mongo
    return mongo


def get_mongo():
    return current_app.extensions["mongo"]


def get_db():
    """The application database; models call this for every query."""
    return get_mongo().ready_database()
