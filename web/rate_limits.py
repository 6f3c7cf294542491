"""flask-limiter's settings for an app."""

from models import db


def rate_limit_settings(config):
    """flask-limiter's settings: shared storage (the MongoDB unless told otherwise)."""
    storage = config.get("RATELIMIT_STORAGE_URI")
    options = {}
    if not storage:
        uri = config["MONGODB_URI"]
        storage = uri if uri.startswith("mongodb") else "memory://"
    if storage.startswith("mongodb"):
        options = {
            "database_name": db.database_name(storage),
            "counter_collection_name": "rate_limit_counters",
            "window_collection_name": "rate_limit_windows",
            "serverSelectionTimeoutMS": config["MONGODB_TIMEOUT_MS"],
        }
    return {
        "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_STORAGE_OPTIONS": options,
        # The embedded server fails the sliding-window-counter strategy
        # (docs/operations.md#the-embedded-server).
        "RATELIMIT_STRATEGY": "fixed-window",
        "RATELIMIT_HEADERS_ENABLED": True,
        # A rate-limit store that is down must not turn every request into a 500.
        "RATELIMIT_SWALLOW_ERRORS": True,
    }
