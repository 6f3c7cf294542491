"""Settings from the environment; production refuses weak secrets."""

import pytest

from app import create_app
from config import DEFAULT_SECRET, ConfigError, load_config

STRONG = {
    "SECRET_KEY": "s" * 40,
    "JWT_SECRET_KEY": "j" * 40,
    "PLAYBACK_SECRET_KEY": "p" * 40,
}


@pytest.fixture
def clean_env(monkeypatch):
    for name in [
        "APP_ENV",
        "SECRET_KEY",
        "JWT_SECRET_KEY",
        "PLAYBACK_SECRET_KEY",
        "BCRYPT_ROUNDS",
        "ADMIN_EMAIL",
        "ADMIN_PASSWORD",
        "ACCESS_TOKEN_MINUTES",
        "PLAYBACK_TOKEN_MAX_HOURS",
        "REFRESH_GRACE_SECONDS",
        "MONGODB_URI",
    ]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def production_env(env, **overrides):
    """APP_ENV=production with strong secrets, then ``overrides``."""
    env.setenv("APP_ENV", "production")
    for name, value in {**STRONG, **overrides}.items():
        env.setenv(name, value)


def test_production_refuses_to_start_without_secrets(clean_env):
    clean_env.setenv("APP_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config()


def test_production_refuses_the_default_secret(clean_env):
    production_env(clean_env, JWT_SECRET_KEY=DEFAULT_SECRET + "-auth")
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY"):
        load_config()


def test_production_refuses_short_secrets(clean_env):
    production_env(clean_env, PLAYBACK_SECRET_KEY="short")
    with pytest.raises(ConfigError, match="PLAYBACK_SECRET_KEY"):
        load_config()


def test_production_refuses_one_key_for_both_token_kinds(clean_env):
    production_env(clean_env, PLAYBACK_SECRET_KEY=STRONG["JWT_SECRET_KEY"])
    with pytest.raises(ConfigError, match="differ"):
        load_config()


def test_production_refuses_cheap_bcrypt(clean_env):
    production_env(clean_env, BCRYPT_ROUNDS="4")
    with pytest.raises(ConfigError, match="BCRYPT_ROUNDS"):
        load_config()


def test_create_app_refuses_production_with_defaults(clean_env):
    with pytest.raises(ConfigError):
        create_app({"APP_ENV": "production", "MONGODB_URI": "mongomock://localhost/x"})


def test_production_with_strong_secrets_loads(clean_env):
    production_env(clean_env)
    config = load_config()
    assert config["APP_ENV"] == "production"
    assert config["BCRYPT_ROUNDS"] == 12
    assert config["ADMIN_EMAIL"] is None  # nothing is created implicitly


def test_values_come_from_the_environment(clean_env):
    clean_env.setenv("ACCESS_TOKEN_MINUTES", "15")
    clean_env.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    clean_env.setenv("RATELIMIT_ENABLED", "false")
    config = load_config({"APP_ENV": "testing"})
    assert config["ACCESS_TOKEN_MINUTES"] == 15
    assert config["CORS_ORIGINS"] == ["https://a.example", "https://b.example"]
    assert config["RATELIMIT_ENABLED"] is False
    assert config["BCRYPT_ROUNDS"] == 4  # cheap in tests


def test_non_integer_is_a_clear_error(clean_env):
    clean_env.setenv("ACCESS_TOKEN_MINUTES", "soon")
    with pytest.raises(ConfigError, match="ACCESS_TOKEN_MINUTES"):
        load_config()


def test_unknown_app_env_is_refused(clean_env):
    clean_env.setenv("APP_ENV", "staging")
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_config()


def test_the_playback_token_ceiling_comes_from_the_environment(clean_env):
    assert load_config({"APP_ENV": "testing"})["PLAYBACK_TOKEN_MAX_HOURS"] == 12
    clean_env.setenv("PLAYBACK_TOKEN_MAX_HOURS", "3")
    assert load_config({"APP_ENV": "testing"})["PLAYBACK_TOKEN_MAX_HOURS"] == 3


@pytest.mark.parametrize("hours", ["0", "-1", "100000000"])
def test_a_playback_token_ceiling_out_of_range_is_refused(clean_env, hours):
    """0 would make every token dead on arrival; a huge one would bring the overflow back."""
    clean_env.setenv("PLAYBACK_TOKEN_MAX_HOURS", hours)
    with pytest.raises(ConfigError, match="PLAYBACK_TOKEN_MAX_HOURS"):
        load_config({"APP_ENV": "testing"})


@pytest.mark.parametrize("seconds", ["-1", "3600"])
def test_a_refresh_grace_out_of_range_is_refused(clean_env, seconds):
    """An hour of grace would let a stolen refresh token pass for a retry all that time."""
    clean_env.setenv("REFRESH_GRACE_SECONDS", seconds)
    with pytest.raises(ConfigError, match="REFRESH_GRACE_SECONDS"):
        load_config({"APP_ENV": "testing"})


def test_the_sandbox_in_production_needs_its_own_webhook_secret(clean_env):
    """Its webhooks settle payments: the development default would let anyone forge them."""
    clean_env.delenv("SANDBOX_WEBHOOK_SECRET", raising=False)
    production_env(clean_env, PAYMENT_PROVIDER="sandbox")
    with pytest.raises(ConfigError, match="SANDBOX_WEBHOOK_SECRET"):
        load_config()
    clean_env.setenv("SANDBOX_WEBHOOK_SECRET", "s" * 40)
    assert load_config()["PAYMENT_PROVIDER"] == "sandbox"


def test_processing_workers_default_to_two_in_each_process(clean_env):
    config = load_config({"APP_ENV": "testing"})
    assert (config["PROCESSING_WORKERS"], config["WORKER_POLL_SECONDS"]) == (2, 2)
    clean_env.setenv("PROCESSING_WORKERS", "0")  # the API only queues; worker.py processes
    assert load_config({"APP_ENV": "testing"})["PROCESSING_WORKERS"] == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [("PROCESSING_WORKERS", "-1"), ("PROCESSING_WORKERS", "65"), ("WORKER_POLL_SECONDS", "0")],
)
def test_processing_workers_out_of_range_are_refused(clean_env, name, value):
    clean_env.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        load_config({"APP_ENV": "testing"})
