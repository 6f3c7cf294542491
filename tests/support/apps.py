"""Settings for a test app, and what a test app must release before its database stops."""

import os
import tempfile

# Mail without SMTP_URL is written here, never into the working tree.
OUTBOX = os.path.join(tempfile.gettempdir(), "video-app-test-outbox")


def test_config(**overrides):
    """Settings for a test app: fast bcrypt, no rate limits unless a test turns them on."""
    config = {
        "APP_ENV": "testing",
        "BCRYPT_ROUNDS": 4,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "ADMIN_EMAIL": "admin@test.example",
        "ADMIN_PASSWORD": "admin-test-password",
        "PROPAGATE_EXCEPTIONS": False,
        "MAIL_OUTBOX_DIR": OUTBOX,
    }
    config.update(overrides)
    return config


test_config.__test__ = False  # a helper, not a test


def release_rate_limit_storage():
    """Close the limiter's MongoDB client while its server still runs (see close_connections)."""
    from app import close_rate_limit_storage

    close_rate_limit_storage()
