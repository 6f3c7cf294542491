"""The media cache's settings (docs/playback.md#the-media-cache): config.py's, kept apart to
keep it short.

On by default only in development: ``make run`` keeps up to 1 GB of copies under ./data
(git-ignored, beside its database). Testing defaults to off, so the suite runs as it did;
CI runs it again with MEDIA_CACHE_MB set. Production defaults to off: the cache wants a
disk the operator sized and mounted for it (a container's writable layer is not one), so
it is turned on by setting MEDIA_CACHE_DIR and MEDIA_CACHE_MB.
"""

from config_env import ConfigError, env_int, env_str

DEFAULT_MB = {"development": 1024}  # other environments: 0, off
MAX_MB = 16 * 1024 * 1024  # 16 TB: a typo's guard, not a limit anyone should meet


def cache_settings(app_env):
    """The MEDIA_CACHE_* settings from the environment."""
    return {
        "MEDIA_CACHE_DIR": env_str("MEDIA_CACHE_DIR", "data/media-cache"),
        # The budget of the copies on disk; 0: no cache, every byte from GridFS.
        "MEDIA_CACHE_MB": env_int("MEDIA_CACHE_MB", DEFAULT_MB.get(app_env, 0)),
    }


def validate_cache(settings):
    """ConfigError when a MEDIA_CACHE_* setting of ``settings`` (the config object) is wrong."""
    if not 0 <= settings.MEDIA_CACHE_MB <= MAX_MB:
        raise ConfigError(
            f"MEDIA_CACHE_MB must be from 0 to {MAX_MB}, got {settings.MEDIA_CACHE_MB}"
        )
    if settings.MEDIA_CACHE_MB and not settings.MEDIA_CACHE_DIR:
        raise ConfigError("MEDIA_CACHE_DIR must be set when MEDIA_CACHE_MB is not 0")
