"""Mail to users: templates, a queue in MongoDB, a background sender (docs/mail.md).

``send(template, to, name=None, **context)`` renders the mail and queues it; it never
talks to the SMTP server itself, so an API call never fails or waits for mail. Without
``SMTP_URL`` development and testing write each mail to ``MAIL_OUTBOX_DIR`` as an .eml
file; production refuses (``require_configured``, 503 ``mail_not_configured``), which a
route calls before it changes anything.
"""

import logging
from urllib.parse import quote

from flask import current_app

from models import mail_outbox
from models.common import utcnow
from services.errors import Unavailable
from services.mail import message, transport

log = logging.getLogger(__name__)


class MailNotConfigured(Unavailable):
    code = "mail_not_configured"
    message = "Mail cannot be sent right now; try again later."


def writes_to_outbox(config):
    return not config.get("SMTP_URL") and config["APP_ENV"] != "production"


def require_configured():
    """MailNotConfigured (503) when this process cannot send mail at all."""
    config = current_app.config
    if not config.get("SMTP_URL") and not writes_to_outbox(config):
        raise MailNotConfigured()


def link(path, token):
    """``APP_LINK_BASE`` + ``path`` with the token as its ``token`` query parameter.

    The base is a web origin (``https://app.example/``) or a deep-link scheme
    (``myapp://``); ``path`` is relative to it (``verify-email``).
    """
    base = current_app.config["APP_LINK_BASE"]
    if not base.endswith(("/", ":")):
        base += "/"
    return f"{base}{path.lstrip('/')}?token={quote(token, safe='')}"


def compose(template, to, name=None, **context):
    """(sender, recipient, message bytes) of the mail, rendered but not queued."""
    sender = message.sender_address(current_app.config["MAIL_FROM"])
    recipient = message.address(to, name)
    built = message.build(template, sender, recipient, name=name or to, **context)
    return sender, recipient, built.as_bytes()


def send(template, to, name=None, **context):
    """Queue the mail ``template`` to ``to`` (shown with ``name``); its id, or the .eml path."""
    require_configured()
    config = current_app.config
    sender, recipient, raw = compose(template, to, name, **context)
    if writes_to_outbox(config):
        path = transport.write_to_outbox(config["MAIL_OUTBOX_DIR"], template, raw)
        log.info("mail %s to %s written to %s", template, recipient.addr_spec, path)
        return path
    mail_id = mail_outbox.insert(raw, sender.addr_spec, recipient.addr_spec, template, utcnow())
    mail_sender = current_app.extensions.get("mail_sender")
    if mail_sender is not None:
        mail_sender.poke()
    return mail_id
