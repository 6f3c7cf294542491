"""Settings for a test app, and what a test app must release before its database stops."""


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
    }
    config.update(overrides)
    return config


test_config.__test__ = False  # a helper, not a test


def release_rate_limit_storage():
    """Close the limiter's MongoDB client while its server still runs (see close_connections)."""
    from app import close_rate_limit_storage

    close_rate_limit_storage()
