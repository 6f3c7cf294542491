"""The resumable (tus) uploads' settings (docs/uploads.md): config.py's, kept apart to keep it
short."""

from config_env import ConfigError, env_int

MAX_UPLOAD_EXPIRY_HOURS = 24 * 30  # a month: unfinished bytes are storage nobody watches


def upload_settings():
    """The resumable uploads' settings from the environment."""
    return {
        # An unfinished upload is removed this long after its creation, chunks and all.
        "UPLOAD_EXPIRY_HOURS": env_int("UPLOAD_EXPIRY_HOURS", 24),
    }


def validate_uploads(settings):
    hours = settings.UPLOAD_EXPIRY_HOURS
    if not 1 <= hours <= MAX_UPLOAD_EXPIRY_HOURS:
        raise ConfigError(
            f"UPLOAD_EXPIRY_HOURS must be from 1 to {MAX_UPLOAD_EXPIRY_HOURS}, got {hours}"
        )
