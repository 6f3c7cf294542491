"""Settings, read from the environment only (docs/operations.md#configuration).

Three classes, one per ``APP_ENV``. ``load_config()`` picks one and returns a
plain dict that ``create_app`` puts on ``app.config``; tests pass overrides on
top. Production refuses to start with a missing or default secret.
"""

from urllib.parse import unquote, urlsplit

from config_cache import cache_settings, validate_cache

# The environment readers live beside: ConfigError is imported from here by the rest of the app.
from config_env import ConfigError, env_bool, env_int, env_list, env_str
from config_hls import hls_settings, validate_hls
from config_uploads import upload_settings, validate_uploads

DEFAULT_SECRET = "dev-insecure-secret-change-me-before-production"
SECRET_NAMES = ("SECRET_KEY", "JWT_SECRET_KEY", "PLAYBACK_SECRET_KEY")
MIN_SECRET_LENGTH = 32
# A week: a playback token is a bearer credential in a URL; longer is never a player's need.
MAX_PLAYBACK_TOKEN_HOURS = 168
SMTP_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
# ISO 4217 currencies with cents (two minor-unit digits): MAX_PRICE and the split mean the same.
CURRENCIES = frozenset(
    "USD EUR GBP CAD AUD NZD CHF SEK NOK DKK PLN BRL MXN INR SGD HKD ZAR".split()  # noqa: SIM905
)
MAX_PRICE_CEILING = 1_000_000_000  # ten million units: integer sums stay far from overflow
PAYMENT_PROVIDERS = ("sandbox", "stripe")
# A minute: the grace is for a retry in flight; longer widens what a stolen token may do.
MAX_REFRESH_GRACE_SECONDS = 60
MAX_AUDIT_RETENTION_DAYS = 3650
MAX_PROCESSING_WORKERS = 64  # each job runs an FFmpeg child of MEDIA_JOB_MEMORY_MB


class BaseConfig:
    APP_ENV = "development"
    DEBUG = False
    TESTING = False

    def __init__(self):
        self._database()
        self._secrets_and_tokens()
        self._accounts()
        self._uploads_and_media()
        self._serving()
        self._rate_limits()
        self._mail()
        self._money()

    def _database(self):
        self.MONGODB_URI = env_str("MONGODB_URI", "mongodb://127.0.0.1:27017/video_app")
        self.MONGODB_TIMEOUT_MS = env_int("MONGODB_TIMEOUT_MS", 2000)

    def _secrets_and_tokens(self):
        self.SECRET_KEY = env_str("SECRET_KEY", DEFAULT_SECRET)
        self.JWT_SECRET_KEY = env_str("JWT_SECRET_KEY", DEFAULT_SECRET + "-auth")
        self.PLAYBACK_SECRET_KEY = env_str("PLAYBACK_SECRET_KEY", DEFAULT_SECRET + "-playback")
        self.ACCESS_TOKEN_MINUTES = env_int("ACCESS_TOKEN_MINUTES", 60)
        self.REFRESH_TOKEN_DAYS = env_int("REFRESH_TOKEN_DAYS", 30)
        # How long the refresh token just rotated away still gets the same new pair (a
        # client's concurrent retry) instead of revoking the session as a replay; 0: never.
        self.REFRESH_GRACE_SECONDS = env_int("REFRESH_GRACE_SECONDS", 10)
        self.PLAYBACK_TOKEN_MINUTES = env_int("PLAYBACK_TOKEN_MINUTES", 60)
        # The longest any playback token lives, however long its video claims to be.
        self.PLAYBACK_TOKEN_MAX_HOURS = env_int("PLAYBACK_TOKEN_MAX_HOURS", 12)
        self.IP_HASH_KEY = env_str("IP_HASH_KEY")  # unset: derived from SECRET_KEY (ip_hash.py)
        self.AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365)

    def _accounts(self):
        self.BCRYPT_ROUNDS = env_int("BCRYPT_ROUNDS", self.default_bcrypt_rounds())
        self.ADMIN_EMAIL = env_str("ADMIN_EMAIL")
        self.ADMIN_PASSWORD = env_str("ADMIN_PASSWORD")
        self.ADMIN_NAME = env_str("ADMIN_NAME", "Administrator")
        # A deleted account's videos, views and sessions are gone within this bound.
        self.ACCOUNT_DELETION_HOURS = env_int("ACCOUNT_DELETION_HOURS", 24)

    def _uploads_and_media(self):
        self.MAX_UPLOAD_MB = env_int("MAX_UPLOAD_MB", 500)
        self.MAX_JSON_KB = env_int("MAX_JSON_KB", 64)
        # A processing job's lease on its video; a heartbeat renews it every quarter of it.
        self.PROCESSING_LEASE_SECONDS = env_int("PROCESSING_LEASE_SECONDS", 120)
        # What an upload may be (422 above), and what probing and processing it may cost.
        self.MAX_MEDIA_DURATION_HOURS = env_int("MAX_MEDIA_DURATION_HOURS", 12)
        self.MAX_VIDEO_DIMENSION = env_int("MAX_VIDEO_DIMENSION", 4096)
        self.MAX_VIDEO_PIXELS = env_int("MAX_VIDEO_PIXELS", 4096 * 2160)
        self.MAX_FRAME_RATE = env_int("MAX_FRAME_RATE", 240)
        self.MEDIA_JOB_MEMORY_MB = env_int("MEDIA_JOB_MEMORY_MB", 1024)
        self.MEDIA_JOB_SECONDS = env_int("MEDIA_JOB_SECONDS", 600)
        self.MEDIA_PROBE_SECONDS = env_int("MEDIA_PROBE_SECONDS", 60)
        # Jobs each API process runs at once; 0: it only queues them for worker.py.
        self.PROCESSING_WORKERS = env_int("PROCESSING_WORKERS", 2)
        self.WORKER_POLL_SECONDS = env_int("WORKER_POLL_SECONDS", 2)  # worker.py's claim loop
        for name, value in {**hls_settings(), **upload_settings()}.items():  # config_*.py
            setattr(self, name, value)

    def _serving(self):
        # Chunk fetches of one process that may wait on MongoDB at once: streams take
        # turns (a batch each, 512 KB when crowded) and an API query never queues behind them all.
        self.STREAM_DB_CONCURRENCY = env_int("STREAM_DB_CONCURRENCY", 1)
        self.CORS_ORIGINS = env_list("CORS_ORIGINS", ["*"])
        self.PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL")
        self.TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
        self.LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
        for name, value in cache_settings(self.APP_ENV).items():  # config_cache.py
            setattr(self, name, value)

    def _rate_limits(self):
        self.RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
        self.RATELIMIT_STORAGE_URI = env_str("RATELIMIT_STORAGE_URI")
        self.RATELIMIT_DEFAULT = env_str("RATELIMIT_DEFAULT", "1200 per minute")
        self.RATELIMIT_SIGNUP = env_str("RATELIMIT_SIGNUP", "5 per minute")
        self.RATELIMIT_LOGIN = env_str("RATELIMIT_LOGIN", "10 per minute")
        self.RATELIMIT_REFRESH = env_str("RATELIMIT_REFRESH", "30 per minute")
        # Per address asked for (normalised), on top of RATELIMIT_LOGIN per IP.
        self.RATELIMIT_PASSWORD_RESET = env_str("RATELIMIT_PASSWORD_RESET", "5 per hour")
        # Per playback token, on the media and thumbnail routes (exempt from the per-IP default).
        self.RATELIMIT_MEDIA = env_str("RATELIMIT_MEDIA", "600 per minute")

    def _mail(self):
        # Unset: development and testing write each mail to MAIL_OUTBOX_DIR; production
        # starts with a warning and the routes that send mail answer 503.
        self.SMTP_URL = env_str("SMTP_URL")
        # A CA bundle to trust besides the system's (a private relay, the tests' server).
        self.SMTP_CA_FILE = env_str("SMTP_CA_FILE")
        self.SMTP_TIMEOUT_SECONDS = env_int("SMTP_TIMEOUT_SECONDS", 20)
        self.MAIL_FROM = env_str("MAIL_FROM", "Video App <no-reply@localhost>")
        self.APP_LINK_BASE = env_str("APP_LINK_BASE", "http://localhost:5000/")
        self.MAIL_OUTBOX_DIR = env_str("MAIL_OUTBOX_DIR", "data/outbox")
        # How long a mailed link works: email verification and change; password reset.
        self.VERIFY_TOKEN_HOURS = env_int("VERIFY_TOKEN_HOURS", 24)
        self.RESET_TOKEN_MINUTES = env_int("RESET_TOKEN_MINUTES", 30)

    def _money(self):
        # One currency for the whole platform; prices are integers in its minor unit.
        self.CURRENCY = env_str("CURRENCY", "USD").upper()
        self.MAX_PRICE = env_int("MAX_PRICE", 100_000)
        self.MAX_BATCH_FILES = env_int("MAX_BATCH_FILES", 10)
        # sandbox (built in: test cards, signed webhooks) or stripe (the official library).
        self.PAYMENT_PROVIDER = env_str("PAYMENT_PROVIDER", self.default_payment_provider())
        # The sandbox signs its webhooks with this (Stripe's scheme: t=..., v1=HMAC-SHA256).
        self.SANDBOX_WEBHOOK_SECRET = env_str(
            "SANDBOX_WEBHOOK_SECRET", DEFAULT_SECRET + "-sandbox-webhook"
        )
        self.STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
        self.STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
        # Only for tests: the stripe library's requests go here instead of api.stripe.com.
        self.STRIPE_API_BASE = env_str("STRIPE_API_BASE")
        # A signed webhook older than this is refused (a replay), as Stripe's library does.
        self.WEBHOOK_TOLERANCE_SECONDS = env_int("WEBHOOK_TOLERANCE_SECONDS", 300)
        # How long an Idempotency-Key answers with its first result.
        self.IDEMPOTENCY_KEY_HOURS = env_int("IDEMPOTENCY_KEY_HOURS", 24)
        self.SUBSCRIPTION_PERIOD_DAYS = env_int("SUBSCRIPTION_PERIOD_DAYS", 30)

    def default_payment_provider(self):
        return "sandbox"

    def default_bcrypt_rounds(self):
        return 12

    def validate(self):
        """Raise ConfigError when this environment must not start."""
        for name, low, high in (
            ("REFRESH_GRACE_SECONDS", 0, MAX_REFRESH_GRACE_SECONDS),
            ("PLAYBACK_TOKEN_MAX_HOURS", 1, MAX_PLAYBACK_TOKEN_HOURS),
            ("AUDIT_RETENTION_DAYS", 1, MAX_AUDIT_RETENTION_DAYS),
            ("PROCESSING_WORKERS", 0, MAX_PROCESSING_WORKERS),
            ("WORKER_POLL_SECONDS", 1, 3600),
        ):
            if not low <= getattr(self, name) <= high:
                raise ConfigError(f"{name} must be from {low} to {high}, got {getattr(self, name)}")
        validate_hls(self)
        validate_cache(self)
        validate_uploads(self)
        if self.SMTP_URL:
            parse_smtp_url(self.SMTP_URL)
        if not self.MAIL_FROM or "@" not in self.MAIL_FROM:
            raise ConfigError(f"MAIL_FROM must be an address, got {self.MAIL_FROM!r}")
        self.validate_money()

    def validate_money(self):
        if self.CURRENCY not in CURRENCIES:
            raise ConfigError(
                f"CURRENCY must be one of {sorted(CURRENCIES)}, got {self.CURRENCY!r}"
            )
        for name, high in (("MAX_PRICE", MAX_PRICE_CEILING), ("MAX_BATCH_FILES", 100)):
            if not 1 <= getattr(self, name) <= high:
                raise ConfigError(f"{name} must be from 1 to {high}")
        if self.PAYMENT_PROVIDER not in (None, *PAYMENT_PROVIDERS):
            raise ConfigError(f"PAYMENT_PROVIDER must be one of {list(PAYMENT_PROVIDERS)}")
        if self.PAYMENT_PROVIDER == "stripe" and not (
            self.STRIPE_SECRET_KEY and self.STRIPE_WEBHOOK_SECRET
        ):
            raise ConfigError(
                "PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET"
            )


class DevelopmentConfig(BaseConfig):
    APP_ENV = "development"

    def __init__(self):
        super().__init__()
        # A local admin out of the box; production never gets one implicitly.
        self.ADMIN_EMAIL = self.ADMIN_EMAIL or "admin@example.com"
        self.ADMIN_PASSWORD = self.ADMIN_PASSWORD or "admin-dev-password"


class TestingConfig(BaseConfig):
    APP_ENV = "testing"
    TESTING = True

    def __init__(self):
        super().__init__()
        self.MONGODB_URI = env_str("MONGODB_URI", "mongomock://localhost/video_app_test")
        self.RATELIMIT_STORAGE_URI = env_str("RATELIMIT_STORAGE_URI", "memory://")

    def default_bcrypt_rounds(self):
        return 4


class ProductionConfig(BaseConfig):
    APP_ENV = "production"

    def default_payment_provider(self):
        # The sandbox takes no money, so production names its provider; until it does, the
        # API starts with a warning and the payment routes answer 503 payments_not_configured.
        return None

    def validate(self):
        super().validate()
        # The sandbox's webhook key settles payments: a known one would open every paid video.
        sandbox = ("SANDBOX_WEBHOOK_SECRET",) if self.PAYMENT_PROVIDER == "sandbox" else ()
        for name in SECRET_NAMES + sandbox + (("IP_HASH_KEY",) if self.IP_HASH_KEY else ()):
            value = getattr(self, name)
            if value.startswith(DEFAULT_SECRET) or len(value) < MIN_SECRET_LENGTH:
                raise ConfigError(
                    f"{name} must be set to a random value of at least "
                    f"{MIN_SECRET_LENGTH} characters in production"
                )
        if self.JWT_SECRET_KEY == self.PLAYBACK_SECRET_KEY:
            raise ConfigError("JWT_SECRET_KEY and PLAYBACK_SECRET_KEY must differ")
        if self.BCRYPT_ROUNDS < 12:
            raise ConfigError("BCRYPT_ROUNDS must be at least 12 in production")


def parse_smtp_url(url):
    """(scheme, host, port, user, password) of an SMTP_URL; ConfigError when malformed.

    ``smtp://host:port`` is plain (a local relay), ``smtp+starttls://user:pass@host:587``
    refuses a server that does not offer STARTTLS, ``smtps://user:pass@host:465`` is TLS
    from the first byte. The user and password are URL-decoded.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or SMTP_SCHEMES.get(parts.scheme)
    except ValueError as error:
        raise ConfigError(f"SMTP_URL is malformed: {error}") from error
    if parts.scheme not in SMTP_SCHEMES:
        raise ConfigError(f"SMTP_URL must start with one of {sorted(SMTP_SCHEMES)}://")
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError("SMTP_URL must be scheme://[user:password@]host[:port]")
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if parts.scheme == "smtp" and user:
        raise ConfigError("SMTP_URL: a password over plain smtp:// would travel in clear")
    return parts.scheme, parts.hostname, port, user, password


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(overrides=None):
    """Build the settings dict: the environment's, then ``overrides`` on top."""
    overrides = dict(overrides or {})
    name = overrides.get("APP_ENV") or env_str("APP_ENV", "development")
    if name not in CONFIGS:
        raise ConfigError(f"APP_ENV must be one of {sorted(CONFIGS)}, got {name!r}")
    settings = CONFIGS[name]()
    for key, value in overrides.items():
        setattr(settings, key, value)
    settings.validate()
    return {key: getattr(settings, key) for key in dir(settings) if key.isupper()}
