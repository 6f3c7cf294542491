"""Password reset through the API, with the token read from the mail a real SMTP server
received (docs/accounts.md, "Password reset"). Both backends."""

import bcrypt
import pytest

from models import mail_outbox
from models import user as users
from services import email_tokens, mail
from tests.support.accounts import PASSWORD
from tests.support.concurrency import all_at_once
from tests.support.mailed import MailWorld, mail_app, production_without_smtp

INVALID = "invalid_or_expired_token"
NEW = "a-brand-new-password"


@pytest.fixture
def world(make_app, smtp_server):
    server = smtp_server("plain")
    return MailWorld(mail_app(make_app, server), server)


def ask(world, email):
    return world.client.post("/auth/password-reset", json={"email": email})


def confirm(world, token, password=NEW):
    body = {"token": token, "new_password": password}
    return world.client.post("/auth/password-reset/confirm", json=body)


def can_login(world, email, password):
    body = {"email": email, "password": password}
    return world.client.post("/auth/login", json=body).status_code == 200


def test_a_reset_sets_the_password_and_ends_every_session(world):
    world.signup("ada@example.com")
    world.deliver()
    headers = world.login("ada@example.com")
    assert ask(world, " ADA@example.com").status_code == 202
    token = world.last_token("ada@example.com", "reset-password")
    [stored] = world.stored(kind="password_reset")
    assert stored["token_hash"] == email_tokens.digest(token) != token
    assert confirm(world, token).status_code == 200
    assert world.client.get("/auth/me", headers=headers).status_code == 401
    assert can_login(world, "ada@example.com", NEW)
    assert not can_login(world, "ada@example.com", PASSWORD)


def test_an_unknown_address_gets_the_same_answer_and_no_mail(world):
    world.signup("ada@example.com")
    world.deliver()
    unknown = ask(world, "nobody@example.com")
    known = ask(world, "ada@example.com")
    assert (unknown.status_code, unknown.json) == (known.status_code, known.json)
    assert [m["To"].addresses[0].addr_spec for m in world.deliver()] == ["ada@example.com"]


def count_calls(monkeypatch, owner, name, seen):
    real = getattr(owner, name)

    def counted(*args, **kwargs):
        seen.append(name)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)


def test_known_and_unknown_addresses_cost_the_same_work(world, monkeypatch):
    """A token made and hashed, a mail rendered, one account lookup, no bcrypt: either way."""
    world.signup("ada@example.com")
    world.deliver()
    work = {"known": [], "unknown": []}
    for label, email in (("known", "ada@example.com"), ("unknown", "nobody@example.com")):
        seen = work[label]
        with monkeypatch.context() as patch:
            for owner, name in (
                (email_tokens.secrets, "token_urlsafe"),
                (email_tokens.hashlib, "sha256"),
                (mail.message, "build"),
                (users, "find_by_email"),
                (bcrypt, "hashpw"),
                (bcrypt, "checkpw"),
            ):
                count_calls(patch, owner, name, seen)
            assert ask(world, email).status_code == 202
    assert sorted(work["known"]) == sorted(work["unknown"])
    assert sorted(work["known"]) == ["build", "find_by_email", "sha256", "token_urlsafe"]


def test_refusals_are_400_and_never_401(world):
    world.signup("ada@example.com")
    world.deliver()
    ask(world, "ada@example.com")
    older = world.last_token("ada@example.com", "reset-password")
    ask(world, "ada@example.com")
    newer = world.last_token("ada@example.com", "reset-password")
    refused = [confirm(world, older), confirm(world, "A" * 43)]
    assert confirm(world, newer).status_code == 200
    refused.append(confirm(world, newer))  # used
    ask(world, "ada@example.com")
    late = world.last_token("ada@example.com", "reset-password")
    world.expire_tokens()
    refused.append(confirm(world, late))
    assert [(r.status_code, r.json["code"]) for r in refused] == [(400, INVALID)] * 4
    assert can_login(world, "ada@example.com", NEW)


def test_a_token_of_a_deleted_account_is_refused(world):
    world.signup("ada@example.com")
    world.deliver()
    ask(world, "ada@example.com")
    token = world.last_token("ada@example.com", "reset-password")
    with world.app.app_context():
        users.collection().delete_one({"email": "ada@example.com"})
    answer = confirm(world, token)
    assert (answer.status_code, answer.json["code"]) == (400, INVALID)


def test_a_password_change_voids_the_reset_links_mailed_before_it(world):
    """The change is the newer decision: a link mailed before it would set a password over it."""
    world.signup("ada@example.com")
    world.deliver()
    headers = world.login("ada@example.com")
    ask(world, "ada@example.com")
    token = world.last_token("ada@example.com", "reset-password")
    body = {"current_password": PASSWORD, "new_password": "changed-meanwhile"}
    assert world.client.put("/me/password", json=body, headers=headers).status_code == 200
    answer = confirm(world, token)
    assert (answer.status_code, answer.json["code"]) == (400, INVALID)
    assert world.client.get("/auth/me", headers=headers).status_code == 200
    assert can_login(world, "ada@example.com", "changed-meanwhile")
    assert not can_login(world, "ada@example.com", NEW)


def test_a_reset_then_the_old_session_cannot_change_the_password(world):
    world.signup("ada@example.com")
    world.deliver()
    headers = world.login("ada@example.com")
    ask(world, "ada@example.com")
    assert confirm(world, world.last_token("ada@example.com", "reset-password")).status_code == 200
    body = {"current_password": PASSWORD, "new_password": "changed-too-late"}
    assert world.client.put("/me/password", json=body, headers=headers).status_code == 401
    assert can_login(world, "ada@example.com", NEW)


@pytest.mark.parametrize("backend", ["mongomock"], indirect=True)
def test_rate_limited_per_address_and_per_client(make_app, smtp_server):
    server = smtp_server("plain")
    app = mail_app(
        make_app,
        server,
        RATELIMIT_ENABLED=True,
        RATELIMIT_PASSWORD_RESET="2 per hour",
        RATELIMIT_LOGIN="5 per minute",
    )
    client = app.test_client()
    codes = [
        client.post("/auth/password-reset", json={"email": email}).status_code
        for email in ("a@example.com", " A@Example.com", "a@example.com", "b@example.com")
    ]
    assert codes == [202, 202, 429, 202]
    more = [
        client.post("/auth/password-reset", json={"email": f"{n}@example.com"}).status_code
        for n in "cd"
    ]
    assert more == [202, 429]  # the fifth and sixth from this client address


def test_production_without_smtp_refuses_before_changing_anything(make_app):
    app = production_without_smtp(make_app)
    client = app.test_client()
    body = {"name": "Ada", "email": "ada@example.com", "password": PASSWORD}
    assert client.post("/auth/signup", json=body).status_code == 201
    answer = client.post("/auth/password-reset", json={"email": "ada@example.com"})
    assert (answer.status_code, answer.json["code"]) == (503, "mail_not_configured")
    with app.app_context():
        assert mail_outbox.collection().count_documents({}) == 0
        assert email_tokens.email_tokens.collection().count_documents({}) == 0


def test_one_token_used_twice_at_once_resets_once(world):
    world.signup("ada@example.com")
    world.deliver()
    ask(world, "ada@example.com")
    token = world.last_token("ada@example.com", "reset-password")
    clients = [world.app.test_client() for _ in range(4)]
    passwords = [f"racing-password-{n}" for n in range(4)]
    body = [{"token": token, "new_password": p} for p in passwords]
    answers = all_at_once(
        [
            lambda c=c, b=b: c.post("/auth/password-reset/confirm", json=b).status_code
            for c, b in zip(clients, body, strict=True)
        ]
    )
    assert sorted(answers) == [200, 400, 400, 400]
    winner = passwords[answers.index(200)]
    assert [can_login(world, "ada@example.com", p) for p in passwords] == [
        p == winner for p in passwords
    ]
