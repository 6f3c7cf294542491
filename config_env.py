"""Reading settings from the environment: config.py's helpers, kept apart to keep it short."""

import os


class ConfigError(RuntimeError):
    """The environment cannot be used to start the service."""


def env_str(name, default=None):
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def env_int(name, default):
    value = env_str(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as error:
        raise ConfigError(f"{name} must be an integer, got {value!r}") from error


def env_bool(name, default):
    value = env_str(name)
    if value is None:
        return default
    return value.lower() in ("1", "true", "yes", "on")


def env_list(name, default):
    value = env_str(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]
