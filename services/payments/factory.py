"""The configured payment provider of this app, made once.

``provider()`` is the configured provider (``PAYMENT_PROVIDER``) of this app, made once:
``sandbox`` (services/payments/sandbox.py, built in) or ``stripe``
(services/payments/stripe_provider.py, imported only when chosen). Without one (production
with no ``PAYMENT_PROVIDER``) every payment route answers 503 ``payments_not_configured``.
"""

from flask import current_app

from services.errors import Unavailable

NOT_CONFIGURED = "Payments are not configured on this server."


def provider():
    app = current_app
    found = app.extensions.get("payment_provider")
    if found is None:
        found = app.extensions["payment_provider"] = make_provider(app)
    return found


def make_provider(app):
    name = app.config.get("PAYMENT_PROVIDER")
    if name == "sandbox":
        from services.payments.sandbox import SandboxProvider

        return SandboxProvider(app.config, app.extensions["payment_jobs"].deliverer.poke)
    if name == "stripe":
        from services.payments.stripe_provider import StripeProvider

        return StripeProvider(app.config)
    raise Unavailable(NOT_CONFIGURED, code="payments_not_configured")


def configured():
    return bool(current_app.config.get("PAYMENT_PROVIDER"))
