"""Mail delivery through a real SMTP server on a socket: plain, STARTTLS, smtps, retries.

The sender is driven by hand (``deliver_due``) with a clock the test moves, on both
backends: the queue is the ``mail_outbox`` collection.
"""

import logging
import time
from datetime import timedelta

import pytest

from models import mail_outbox
from models.common import utcnow
from services import mail
from services.mail.sender import BATCH, GIVE_UP_AFTER, MailSender
from tests.support.mail import Logins, free_port

TOKEN = "tok-3f9a_secret-value"
RECIPIENT = "viewer@test.example"


class Clock:
    """Now when made (after the mail was queued), then only when the test moves it."""

    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


def mail_app(make_app, smtp_url, caplog=None, **overrides):
    app = make_app(
        SMTP_URL=smtp_url,
        MAIL_FROM="Video App <no-reply@test.example>",
        APP_LINK_BASE="https://app.test.example/",
        **overrides,
    )
    if caplog is not None:  # create_app installs its own log handler; caplog's comes back
        logging.getLogger().addHandler(caplog.handler)
    return app


def queue_verification(app, name="Viewer"):
    with app.app_context():
        link = mail.link("verify-email", TOKEN)
        return mail.send("verify_email", RECIPIENT, name, link=link, valid_hours=24)


def queued(app):
    with app.app_context():
        return list(mail_outbox.collection().find())


def bodies(received):
    text = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    return text, html


def test_plain_smtp_delivers_text_and_html_with_the_link(make_app, smtp_server):
    server = smtp_server("plain")
    app = mail_app(make_app, f"smtp://127.0.0.1:{server.port}")
    queue_verification(app)
    assert MailSender(app).deliver_due() == 1
    [received] = server.received
    assert received["From"] == "Video App <no-reply@test.example>"
    assert received["To"] == f"Viewer <{RECIPIENT}>"
    text, html = bodies(received)
    link = f"https://app.test.example/verify-email?token={TOKEN}"
    assert link in text and f'href="{link}"' in html
    assert queued(app) == []  # a sent mail's copy, token and all, is gone


def test_a_backlog_longer_than_a_batch_goes_out_in_one_round(make_app, smtp_server):
    server = smtp_server("plain")
    app = mail_app(make_app, f"smtp://127.0.0.1:{server.port}")
    for _ in range(BATCH + 5):
        queue_verification(app)
    assert MailSender(app, Clock()).deliver_due() == BATCH + 5
    assert len(server.received) == BATCH + 5 and queued(app) == []


def test_a_name_with_a_line_break_adds_no_header(make_app, smtp_server):
    server = smtp_server("plain")
    app = mail_app(make_app, f"smtp://127.0.0.1:{server.port}")
    queue_verification(app, name="Eve\r\nBcc: evil@x.example")
    MailSender(app).deliver_due()
    [received] = server.received
    assert received["Bcc"] is None
    assert received["To"].addresses[0].addr_spec == RECIPIENT
    assert server.recorder.envelopes == [("no-reply@test.example", [RECIPIENT])]


def test_an_address_with_a_line_break_is_refused(make_app, smtp_server):
    server = smtp_server("plain")
    app = mail_app(make_app, f"smtp://127.0.0.1:{server.port}")
    with app.app_context(), pytest.raises(ValueError):
        mail.send("verify_email", "a@x.example\r\nBcc: evil@x.example", link="l", valid_hours=1)
    assert queued(app) == []


def test_starttls_with_a_login_delivers(make_app, smtp_server, smtp_certificate):
    logins = Logins("mailer@test.example", "p:ss/word")
    server = smtp_server("starttls", certificate=smtp_certificate, logins=logins)
    url = f"smtp+starttls://mailer%40test.example:p%3Ass%2Fword@127.0.0.1:{server.port}"
    app = mail_app(make_app, url, SMTP_CA_FILE=str(smtp_certificate[0]))
    queue_verification(app)
    assert MailSender(app).deliver_due() == 1
    assert logins.tried == [("mailer@test.example", "p:ss/word")]
    assert len(server.received) == 1


def test_smtps_delivers(make_app, smtp_server, smtp_certificate):
    logins = Logins("mailer", "secret")
    server = smtp_server("smtps", certificate=smtp_certificate, logins=logins)
    app = mail_app(
        make_app,
        f"smtps://mailer:secret@127.0.0.1:{server.port}",
        SMTP_CA_FILE=str(smtp_certificate[0]),
    )
    queue_verification(app)
    assert MailSender(app).deliver_due() == 1
    assert logins.tried == [("mailer", "secret")] and len(server.received) == 1


def test_an_untrusted_certificate_is_not_sent_to(make_app, smtp_server, smtp_certificate):
    server = smtp_server("smtps", certificate=smtp_certificate)
    app = mail_app(make_app, f"smtps://127.0.0.1:{server.port}")  # no SMTP_CA_FILE
    queue_verification(app)
    assert MailSender(app).deliver_due() == 0
    assert server.received == [] and len(queued(app)) == 1


def test_starttls_not_offered_is_never_sent_in_clear(make_app, smtp_server, caplog):
    logins = Logins("mailer", "secret")
    server = smtp_server("plain", logins=logins)  # offers no STARTTLS
    url = f"smtp+starttls://mailer:secret@127.0.0.1:{server.port}"
    app = mail_app(make_app, url, caplog)
    queue_verification(app)
    with caplog.at_level(logging.WARNING):
        assert MailSender(app).deliver_due() == 0
    assert server.received == [] and logins.tried == []
    [waiting] = queued(app)
    assert waiting["attempts"] == 1 and "STARTTLS" in waiting["last_error"]
    assert "StartTlsMissing" in caplog.text and TOKEN not in caplog.text


def test_a_server_down_at_send_time_gets_the_mail_once_it_is_up(make_app, smtp_server, caplog):
    port = free_port()  # nothing listens there yet
    app = mail_app(make_app, f"smtp://127.0.0.1:{port}", caplog)
    assert queue_verification(app) is not None  # the enqueue itself succeeded
    clock = Clock()
    sender = MailSender(app, clock)
    with caplog.at_level(logging.INFO):
        assert sender.deliver_due() == 0
        assert [mail["attempts"] for mail in queued(app)] == [1]
        server = smtp_server("plain", port=port)
        clock.advance(seconds=29)
        assert sender.deliver_due() == 0  # backing off: not tried before 30 s
        assert server.received == []
        clock.advance(seconds=2)
        assert sender.deliver_due() == 1
    assert len(server.received) == 1 and queued(app) == []
    assert sender.deliver_due() == 0 and len(server.received) == 1  # once only
    assert TOKEN not in caplog.text


def test_a_mail_undeliverable_for_a_day_is_given_up_with_an_error(make_app, caplog):
    app = mail_app(make_app, f"smtp://127.0.0.1:{free_port()}", caplog)
    queue_verification(app)
    clock = Clock()
    sender = MailSender(app, clock)
    sender.deliver_due()
    assert [mail["attempts"] for mail in queued(app)] == [1]
    clock.advance(seconds=GIVE_UP_AFTER.total_seconds())
    with caplog.at_level(logging.ERROR):
        sender.deliver_due()
    assert queued(app) == []
    assert any(r.levelno == logging.ERROR and "given up" in r.getMessage() for r in caplog.records)


def test_a_recipient_refused_for_good_is_given_up_at_once(make_app, smtp_server, caplog):
    server = smtp_server("plain")
    server.recorder.unknown.add(RECIPIENT)
    app = mail_app(make_app, f"smtp://127.0.0.1:{server.port}", caplog)
    queue_verification(app)
    with caplog.at_level(logging.ERROR):
        assert MailSender(app).deliver_due() == 0
    assert queued(app) == [] and server.received == []
    assert any(r.levelno == logging.ERROR and "550" in r.getMessage() for r in caplog.records)


def test_a_claimed_mail_is_not_claimed_again_until_its_lease_runs_out(make_app):
    app = mail_app(make_app, f"smtp://127.0.0.1:{free_port()}")
    queue_verification(app)
    with app.app_context():
        now = utcnow()
        [(mail_id, seen_at)] = mail_outbox.due(now)
        assert mail_outbox.claim(mail_id, seen_at, now + timedelta(minutes=5)) is not None
        assert mail_outbox.claim(mail_id, seen_at, now + timedelta(minutes=5)) is None
        assert mail_outbox.due(now) == []
        assert len(mail_outbox.due(now + timedelta(minutes=6))) == 1


def test_the_background_sender_delivers_right_after_the_enqueue(make_app, smtp_server):
    server = smtp_server("plain")
    app = mail_app(make_app, f"smtp://127.0.0.1:{server.port}")
    sender = app.extensions["mail_sender"]
    sender.poll_seconds = 3600  # only the enqueue's poke can wake it within the test
    sender.start()
    try:
        queue_verification(app)
        delivered = wait_for(lambda: server.received)
    finally:
        sender.stop()
    assert len(delivered) == 1


def wait_for(condition, patience=30):
    """``condition()`` once truthy, or when patience runs out (a failure, not a timing)."""
    deadline = time.monotonic() + patience
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()
