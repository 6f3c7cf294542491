"""A test app whose mail goes to a real SMTP server (aiosmtpd), and the links in it.

``MailWorld`` signs users up through the API, delivers what is queued (``deliver_due``)
and reads the token out of the link in the delivered message, as a user would.
"""

import re
from datetime import timedelta
from urllib.parse import unquote

from models import email_tokens
from models.common import utcnow
from services.mail.sender import MailSender
from tests.support.accounts import PASSWORD

LINK = re.compile(r"https://app\.test\.example/([a-z-]+)\?token=([^\s\"'<&]+)")
STRONG = {"SECRET_KEY": "s" * 40, "JWT_SECRET_KEY": "j" * 40, "PLAYBACK_SECRET_KEY": "p" * 40}


def mail_app(make_app, server, **overrides):
    return make_app(
        SMTP_URL=f"smtp://127.0.0.1:{server.port}",
        MAIL_FROM="Video App <no-reply@test.example>",
        APP_LINK_BASE="https://app.test.example/",
        **overrides,
    )


def production_without_smtp(make_app):
    return make_app(
        APP_ENV="production", BCRYPT_ROUNDS=12, ADMIN_EMAIL=None, ADMIN_PASSWORD=None, **STRONG
    )


class MailWorld:
    def __init__(self, app, server):
        self.app, self.server = app, server
        self.client = app.test_client()
        self.seen = 0

    def deliver(self):
        """Send what is queued; the messages that arrived since the last call."""
        MailSender(self.app).deliver_due()
        fresh = self.server.received[self.seen :]
        self.seen = len(self.server.received)
        return fresh

    def token_in(self, message, path):
        text = message.get_body(("plain",)).get_content()
        [(found_path, token)] = set(LINK.findall(text))
        assert found_path == path
        return unquote(token)

    def last_token(self, to, path):
        [message] = [m for m in self.deliver() if m["To"].addresses[0].addr_spec == to]
        return self.token_in(message, path)

    def signup(self, email, name="Ada", password=PASSWORD):
        body = {"name": name, "email": email, "password": password}
        response = self.client.post("/auth/signup", json=body)
        assert response.status_code == 201, response.json
        return response.json["user"]

    def login(self, email, password=PASSWORD):
        response = self.client.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.json
        return {"Authorization": f"Bearer {response.json['token']}"}

    def expire_tokens(self):
        """Move every stored token past its expiry (the TTL index would delete it later)."""
        with self.app.app_context():
            past = utcnow() - timedelta(seconds=1)
            email_tokens.collection().update_many({}, {"$set": {"expires_at": past}})

    def stored(self, **query):
        with self.app.app_context():
            return list(email_tokens.collection().find(query))
