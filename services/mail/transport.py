"""Handing one rendered mail to the SMTP server of ``SMTP_URL``, or to the outbox folder.

``smtp+starttls://`` never sends in clear: a server that does not offer STARTTLS is a
failure (the mail stays queued), as is a certificate the client does not trust
(the system's CAs, and ``SMTP_CA_FILE`` when set).
"""

import smtplib
import ssl
import uuid
from datetime import UTC, datetime
from pathlib import Path

from config import parse_smtp_url


class StartTlsMissing(smtplib.SMTPException):
    """The server did not offer STARTTLS, which ``smtp+starttls://`` requires."""


def tls_context(ca_file=None):
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def deliver(config, sender, recipient, message):
    """Send ``message`` (bytes) over SMTP; an exception (smtplib's, OSError) when not sent."""
    scheme, host, port, user, password = parse_smtp_url(config["SMTP_URL"])
    timeout = config["SMTP_TIMEOUT_SECONDS"]
    context = tls_context(config.get("SMTP_CA_FILE"))
    if scheme == "smtps":
        connection = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
    with connection:
        connection.ehlo()
        if scheme == "smtp+starttls":
            if not connection.has_extn("starttls"):
                raise StartTlsMissing(f"{host}:{port} does not offer STARTTLS")
            connection.starttls(context=context)
            connection.ehlo()
        if user:
            connection.login(user, password or "")
        connection.sendmail(sender, [recipient], message)


def write_to_outbox(folder, template, message):
    """Write ``message`` (bytes) as an .eml file in ``folder``; its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = folder / f"{stamp}-{template}-{uuid.uuid4().hex[:8]}.eml"
    path.write_bytes(message)
    return path
