"""The application factory: ``create_app(config=None)`` in named steps."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import config as settings
from blueprints import meta, registry
from blueprints.common import byte_limits
from extensions import api, cors, limiter, media_cache, media_chunks
from models import (
    course,
    daily_stats,
    db,
    deleted_account,
    email_tokens,
    export,
    hls,
    idempotency,
    job_files,
    ladder_jobs,
    ledger,
    mail_outbox,
    media_file,
    playback_view,
    progress,
    purchase,
    reaction,
    recent_view,
    sandbox_payment,
    subscription,
    tus_upload,
    webhook_event,
)
from models import session as sessions
from models import user as users
from models import video as videos
from services import accounts, playback_memo
from services.account_deletion import AccountDeletions
from services.mail.sender import MailSender
from services.media.jobs import MediaJobs
from services.payments.factory import make_provider
from services.payments.jobs import PaymentJobs
from services.renewals import Renewals
from web import audit, errors, logs, security_headers
from web.api import register_converters
from web.rate_limits import rate_limit_settings
from web.request_class import ApiRequest
from web.sessions import CookieSessionInterface

EXPOSED_HEADERS = ["Content-Range", "Accept-Ranges", "Content-Length", "ETag", "X-Request-ID"]
# What a browser's tus client must read and send (docs/uploads.md#browsers-cors).
TUS_EXPOSED = ["Location", "Tus-Resumable", "Tus-Version", "Tus-Extension", "Tus-Max-Size"]
TUS_EXPOSED += ["Tus-Checksum-Algorithm", "Upload-Offset", "Upload-Length", "Upload-Expires"]
TUS_EXPOSED += ["Video-Id"]
TUS_SENT = ["Tus-Resumable", "Upload-Length", "Upload-Metadata", "Upload-Offset", "Upload-Checksum"]


def create_app(config=None, background=True):
    """``background=False``: no sweeps nor senders (worker.py runs only its own loop)."""
    app = Flask(__name__, static_folder=None)  # no static files; /docs has its own
    app.request_class = ApiRequest  # uploads spool to disk (web.upload_spool)
    app.session_interface = CookieSessionInterface()  # no signer built for no cookie
    app.config.update(settings.load_config(config))
    configure_logging(app)
    configure_proxy(app)
    register_database(app, background)
    register_mail(app)
    register_extensions(app)
    register_blueprints(app)
    register_web_hooks(app)
    run_startup_tasks(app, background)
    return app


def configure_logging(app):
    """JSON lines with a request id; first, so its hooks run before any other's."""
    logs.configure(app.config["LOG_LEVEL"])
    logs.init_app(app)


def configure_proxy(app):
    """Honour X-Forwarded-* only from the ``TRUSTED_PROXY_COUNT`` proxies in front.

    X-Forwarded-For is the rate limiter's key, and X-Forwarded-Host/Proto/Prefix
    shape the signed URLs handed out: a client must choose neither. With no
    proxy (0) the socket's address and the Host header decide.
    """
    hops = app.config["TRUSTED_PROXY_COUNT"]
    if hops > 0:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
    if app.config["APP_ENV"] == "production" and not app.config["PUBLIC_BASE_URL"]:
        # Not a refusal: a forged Host only bends the URLs of the forger's own answers.
        app.logger.warning(
            "PUBLIC_BASE_URL is not set: signed URLs follow the Host header each client sends"
        )


def register_database(app, background=True):
    mongo = db.init_app(app)
    mongo.on_ready(users.create_indexes)
    mongo.on_ready(sessions.create_indexes)
    mongo.on_ready(sessions.drop_raw_addresses)
    mongo.on_ready(videos.create_indexes)
    mongo.on_ready(job_files.create_indexes)
    mongo.on_ready(ladder_jobs.create_indexes)
    mongo.on_ready(videos.add_missing_keywords)
    mongo.on_ready(videos.add_missing_share_keys)
    if app.config["HLS_MAX_RENDITIONS"]:  # ready videos without a ladder: queue its job
        mongo.on_ready(ladder_jobs.queue_missing_ladders)
    mongo.on_ready(media_file.create_indexes)
    mongo.on_ready(playback_view.create_indexes)
    mongo.on_ready(recent_view.create_indexes)
    mongo.on_ready(lambda database: accounts.bootstrap_admin())
    jobs = app.extensions["media_jobs"] = MediaJobs(app)  # PROCESSING_WORKERS threads
    if background:  # Videos a dead process left half-processed, once the DB answers.
        mongo.on_ready(lambda database: jobs.sweep())
    mongo.on_ready(deleted_account.create_indexes)
    mongo.on_ready(export.create_indexes)
    deletions = app.extensions["account_deletions"] = AccountDeletions(app)
    if background:
        mongo.on_ready(lambda database: deletions.sweep())  # deletions a dead process left
    for model in (course, purchase, subscription, ledger, daily_stats, reaction, progress, hls):
        mongo.on_ready(model.create_indexes)
    mongo.on_ready(tus_upload.create_indexes)
    daily_stats.register(app)  # the counter buffer: app.extensions["counters"]
    register_payments(app)


def register_payments(app):
    """The payment collections' indexes, the webhook deliverer and reconciliation sweep."""
    for model in (idempotency, sandbox_payment, webhook_event):
        app.extensions["mongo"].on_ready(model.create_indexes)
    app.extensions["payment_jobs"] = PaymentJobs(app)
    app.extensions["subscription_renewals"] = Renewals(app)
    if app.config["PAYMENT_PROVIDER"]:
        # Made now, not at the first payment: a provider that cannot be built (a bad setting,
        # a missing library) stops the start, rather than making every payment a 500.
        app.extensions["payment_provider"] = make_provider(app)
    else:
        app.logger.warning(
            "PAYMENT_PROVIDER is not set: the payment routes answer 503 payments_not_configured"
        )


def register_mail(app):
    """The mail queue's index and its sender (started in run_startup_tasks)."""
    app.extensions["mongo"].on_ready(mail_outbox.create_indexes)
    app.extensions["mongo"].on_ready(email_tokens.create_indexes)
    app.extensions["mail_sender"] = MailSender(app)
    if app.config["APP_ENV"] == "production" and not app.config["SMTP_URL"]:
        app.logger.warning(
            "SMTP_URL is not set: the routes that send mail answer 503 mail_not_configured"
        )


def register_extensions(app):
    app.config.update(openapi_settings(app.config))
    app.config.update(rate_limit_settings(app.config))
    api.init_app(
        app,
        spec_kwargs={
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                }
            }
        },
    )
    register_converters(app)
    limiter.init_app(app)
    byte_limits.init_app(app)  # its hook skips the byte routes, which count per token
    media_chunks.init_app(app)
    media_cache.init_app(app)
    cors.init_app(
        app,
        origins=app.config["CORS_ORIGINS"],
        expose_headers=EXPOSED_HEADERS + TUS_EXPOSED,
        allow_headers=[
            "Authorization",
            "Content-Type",
            "Range",
            "If-Range",
            "If-None-Match",
            "X-Request-ID",
            "Idempotency-Key",
            *TUS_SENT,
        ],
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        max_age=600,
    )


def openapi_settings(config):
    return {
        "API_TITLE": "Video App API",
        "API_VERSION": meta.VERSION,
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        # Relative to /docs, so a path prefix behind a proxy keeps working.
        "OPENAPI_SWAGGER_UI_URL": "docs/assets/",
        "OPENAPI_SWAGGER_UI_CONFIG": {"deepLinking": True, "persistAuthorization": True},
    }


def register_blueprints(app):
    for blueprint in registry.API_BLUEPRINTS:
        api.register_blueprint(blueprint)
    for blueprint in registry.PLAIN_BLUEPRINTS:
        app.register_blueprint(blueprint)


def register_web_hooks(app):
    """The error body; nosniff and the rest on every response, errors and media included;
    the audit log's entry for every mutating call (web.audit), with its writer and indexes."""
    errors.init_app(app)
    security_headers.init_app(app)
    audit.init_app(app)
    playback_memo.init_app(app)


def run_startup_tasks(app, background=True):
    """Indexes, the admin account, the sweep: now, or once MongoDB answers.

    A refusal (db.StartupRefused: e.g. ADMIN_EMAIL is someone else's account) goes
    through, logged, so the process does not start: gunicorn's worker fails to boot,
    which stops gunicorn.
    """
    mongo = app.extensions["mongo"]
    with app.app_context():
        try:
            mongo.try_startup()
        except db.StartupRefused:
            mongo.client.close()
            raise
    if background and not app.config["TESTING"]:
        app.extensions["media_jobs"].start_sweeping()
        app.extensions["account_deletions"].start_sweeping()
        app.extensions["payment_jobs"].start()
        app.extensions["subscription_renewals"].start()
        if app.config["SMTP_URL"]:
            app.extensions["mail_sender"].start()


def close_connections(app):
    """Close the app's MongoDB clients while the server is still up.

    The rate limiter's storage otherwise closes its client in ``__del__`` at interpreter exit,
    when the database may be gone, and pymongo then waits for a server that never answers."""
    stop_background_work(app)
    app.extensions["mongo"].client.close()
    close_rate_limit_storage()


def stop_background_work(app):
    """Stop the sweeps and senders first: one running after the client closed logs failures."""
    for name in ("payment_jobs", "subscription_renewals", "mail_sender"):
        app.extensions[name].stop()
    app.extensions["media_jobs"].stop_sweeping()
    app.extensions["account_deletions"].stop_sweeping()
    app.extensions["audit_log"].stop()  # what it could not write is logged, entry by entry
    app.extensions["counters"].stop()  # likewise: written, or logged at ERROR
    app.extensions["media_cache"].close()  # its fills read GridFS: before the client closes


def close_rate_limit_storage():
    storage = getattr(limiter, "_storage", None)
    client = getattr(storage, "storage", None)
    if client is not None and hasattr(client, "close"):
        client.close()
    limiter._storage = None
