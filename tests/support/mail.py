"""A real SMTP server on a socket for the mail tests (aiosmtpd), and its TLS certificate.

``SmtpServer`` listens on a free port of 127.0.0.1 in one of three modes: ``plain``,
``starttls`` (STARTTLS offered and required before MAIL FROM and AUTH) or ``smtps``
(TLS from the first byte). ``received`` holds each message as the server parsed it.
"""

import email
import socket
import ssl
import subprocess
from email.policy import default

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def self_signed_certificate(folder):
    """(certificate, key) paths of a throwaway certificate for 127.0.0.1, made by openssl."""
    cert, key = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
    )
    return cert, key


class Recorder:
    """Keeps what the server accepts; refuses the recipients in ``unknown`` with a 550."""

    def __init__(self):
        self.received = []
        self.envelopes = []
        self.unknown = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.unknown:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.received.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 OK"


class Logins:
    """Accepts one user and password; records what each AUTH tried."""

    def __init__(self, user, password):
        self.expected = (user, password)
        self.tried = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        login = (auth_data.login.decode(), auth_data.password.decode())
        self.tried.append(login)
        return AuthResult(success=login == self.expected)


class SmtpServer:
    def __init__(self, mode="plain", certificate=None, port=None, logins=None):
        self.mode = mode
        self.port = port or free_port()
        self.recorder = Recorder()
        self.logins = logins
        self.certificate = certificate
        self.controller = None

    @property
    def received(self):
        return self.recorder.received

    def _context(self):
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*self.certificate)
        return context

    def start(self):
        options = {}
        if self.logins is not None:
            # Implicit TLS is invisible to aiosmtpd's AUTH check: only STARTTLS is asked for.
            options.update(authenticator=self.logins, auth_require_tls=self.mode == "starttls")
        if self.mode == "starttls":
            options.update(tls_context=self._context(), require_starttls=True)
        if self.mode == "smtps":
            options.update(ssl_context=self._context())
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
