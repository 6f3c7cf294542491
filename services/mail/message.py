"""A mail from its templates: a plain-text body and an HTML alternative.

The bodies are Jinja2 templates in ``templates/`` (``<name>.txt`` and ``<name>.html``; the
HTML one autoescaped). Headers are built with ``email.headerregistry.Address`` under
``email.policy.SMTP``: a name or address with a line break or another control character
never becomes a header of its own.
"""

import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
SUBJECTS = {
    "verify_email": "Confirm your email address",
    "email_change": "Confirm your new email address",
    "password_reset": "Reset your password",
}
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


def address(addr_spec, name=None):
    """An Address; a control character in ``name`` becomes a space, in ``addr_spec`` is refused."""
    if CONTROL.search(addr_spec) or "@" not in addr_spec:
        raise ValueError("a mail address may not contain control characters")
    username, domain = addr_spec.rsplit("@", 1)
    display = " ".join(CONTROL.sub(" ", name or "").split())
    return Address(display_name=display, username=username, domain=domain)


def sender_address(mail_from):
    """MAIL_FROM (``Name <addr>`` or ``addr``) as an Address."""
    name, addr_spec = parseaddr(mail_from)
    return address(addr_spec, name)


def render(template, **context):
    """(subject, text, html) of ``template`` with ``context``."""
    text = _environment.get_template(f"{template}.txt").render(**context)
    html = _environment.get_template(f"{template}.html").render(**context)
    return SUBJECTS[template], text, html


def build(template, sender, recipient, **context):
    """The EmailMessage of ``template`` from ``sender`` to ``recipient`` (Addresses)."""
    subject, text, html = render(template, **context)
    message = EmailMessage(policy=SMTP)
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.domain)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message
