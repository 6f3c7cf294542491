"""Mail settings: SMTP_URL's forms, the development outbox, production without SMTP_URL,
the links the mails carry and the three templates."""

import email
import logging
from email.policy import default

import pytest

from config import ConfigError, load_config, parse_smtp_url
from models import mail_outbox
from services import mail
from services.mail import message

TOKEN = "tok-77_secret"
STRONG = {"SECRET_KEY": "s" * 40, "JWT_SECRET_KEY": "j" * 40, "PLAYBACK_SECRET_KEY": "p" * 40}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://127.0.0.1:2525", ("smtp", "127.0.0.1", 2525, None, None)),
        ("smtp://relay", ("smtp", "relay", 25, None, None)),
        (
            "smtp+starttls://me%40x.example:p%3Aw%2Fd@mail.x.example",
            ("smtp+starttls", "mail.x.example", 587, "me@x.example", "p:w/d"),
        ),
        ("smtps://u:pw@mail.x.example:4650", ("smtps", "mail.x.example", 4650, "u", "pw")),
    ],
)
def test_smtp_url_forms(url, expected):
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "mail.x.example:25",
        "http://mail.x.example",
        "smtp://",
        "smtp://mail.x.example:port",
        "smtp://mail.x.example/path",
        "smtp://u:pw@mail.x.example",  # a password in clear
    ],
)
def test_a_malformed_smtp_url_refuses_start_up(url, monkeypatch):
    monkeypatch.setenv("SMTP_URL", url)
    with pytest.raises(ConfigError, match="SMTP_URL"):
        load_config({"APP_ENV": "testing"})


def test_development_writes_each_mail_to_the_outbox(make_app, tmp_path, caplog):
    app = make_app(APP_ENV="development", MAIL_OUTBOX_DIR=str(tmp_path / "outbox"))
    logging.getLogger().addHandler(caplog.handler)
    with app.app_context(), caplog.at_level(logging.INFO):
        mail.require_configured()
        link = mail.link("verify-email", TOKEN)
        path = mail.send("verify_email", "new@test.example", "New", link=link, valid_hours=24)
        assert list(mail_outbox.collection().find()) == []
    [written] = (tmp_path / "outbox").glob("*.eml")
    assert written == path
    saved = email.message_from_bytes(written.read_bytes(), policy=default)
    assert saved["To"] == "New <new@test.example>"
    assert TOKEN in saved.get_body(("plain",)).get_content()
    assert saved.get_body(("html",)) is not None
    lines = [r.getMessage() for r in caplog.records if r.name == "services.mail"]
    assert len(lines) == 1 and str(written) in lines[0]
    assert TOKEN not in caplog.text


def test_production_without_smtp_url_starts_with_a_warning_and_refuses_mail(make_app, capsys):
    app = make_app(
        APP_ENV="production", BCRYPT_ROUNDS=12, ADMIN_EMAIL=None, ADMIN_PASSWORD=None, **STRONG
    )
    assert "SMTP_URL is not set" in capsys.readouterr().err
    with app.app_context():
        with pytest.raises(mail.MailNotConfigured) as refused:
            mail.require_configured()
        assert refused.value.status == 503
        assert refused.value.to_dict()["code"] == "mail_not_configured"
        with pytest.raises(mail.MailNotConfigured):
            mail.send("password_reset", "a@test.example", link="l", valid_minutes=30)
        assert list(mail_outbox.collection().find()) == []


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://app.example/", "https://app.example/reset-password?token=a%2Fb%2Bc"),
        ("https://app.example/web", "https://app.example/web/reset-password?token=a%2Fb%2Bc"),
        ("myapp://", "myapp://reset-password?token=a%2Fb%2Bc"),
    ],
)
def test_links_put_the_token_under_app_link_base(make_app, base, expected):
    app = make_app(APP_LINK_BASE=base)
    with app.app_context():
        assert mail.link("/reset-password", "a/b+c") == expected


@pytest.mark.parametrize(
    ("template", "context"),
    [
        ("verify_email", {"valid_hours": 24}),
        ("email_change", {"valid_hours": 24}),
        ("password_reset", {"valid_minutes": 30}),
    ],
)
def test_each_template_has_a_subject_a_text_and_an_escaped_html_body(template, context):
    link = "https://app.example/x?token=t&y=1"
    subject, text, html = message.render(template, name="<b>Ann</b>", link=link, **context)
    assert subject and link in text and "<b>Ann</b>" in text
    assert 'href="https://app.example/x?token=t&amp;y=1"' in html
    assert "&lt;b&gt;Ann&lt;/b&gt;" in html and "<b>Ann" not in html
