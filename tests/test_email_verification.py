"""Email verification and change of address, through the API, with the token read from the
mail a real SMTP server received (docs/accounts.md, "Email verification"). Both backends."""

import pytest

from models import user as users
from tests.support.accounts import PASSWORD
from tests.support.mailed import MailWorld, mail_app, production_without_smtp

INVALID = "invalid_or_expired_token"


@pytest.fixture
def world(make_app, smtp_server):
    server = smtp_server("plain")
    return MailWorld(mail_app(make_app, server), server)


def verify(world, token):
    return world.client.post("/auth/verify-email", json={"token": token})


def test_signup_is_unverified_until_the_mailed_link_is_used(world):
    user = world.signup("ada@example.com")
    assert user["email_verified"] is False
    headers = world.login("ada@example.com")
    assert world.client.get("/auth/me", headers=headers).json["user"]["email_verified"] is False
    token = world.last_token("ada@example.com", "verify-email")
    assert world.stored(token_hash=token) == []  # only its hash is kept
    answer = verify(world, token)
    assert answer.status_code == 200
    assert answer.json["user"]["email_verified"] is True
    assert world.client.get("/auth/me", headers=headers).json["user"]["email_verified"] is True


def test_a_used_guessed_or_expired_token_is_refused_with_400(world):
    world.signup("ada@example.com")
    token = world.last_token("ada@example.com", "verify-email")
    assert verify(world, token).status_code == 200
    again = verify(world, token)
    assert (again.status_code, again.json["code"]) == (400, INVALID)
    assert verify(world, "A" * 43).json["code"] == INVALID
    world.signup("bob@example.com")
    late = world.last_token("bob@example.com", "verify-email")
    world.expire_tokens()
    expired = verify(world, late)
    assert (expired.status_code, expired.json["code"]) == (400, INVALID)


def test_resend_voids_the_older_link_and_answers_200_once_verified(world):
    world.signup("ada@example.com")
    older = world.last_token("ada@example.com", "verify-email")
    headers = world.login("ada@example.com")
    assert world.client.post("/auth/resend-verification", headers=headers).status_code == 202
    newer = world.last_token("ada@example.com", "verify-email")
    assert verify(world, older).json["code"] == INVALID
    assert verify(world, newer).status_code == 200
    done = world.client.post("/auth/resend-verification", headers=headers)
    assert done.status_code == 200 and world.deliver() == []


def test_an_account_from_before_verification_counts_as_verified(world):
    world.signup("old@example.com")
    with world.app.app_context():
        users.collection().update_one(
            {"email": "old@example.com"}, {"$unset": {"email_verified": 1}}
        )
    headers = world.login("old@example.com")
    assert world.client.get("/auth/me", headers=headers).json["user"]["email_verified"] is True


def test_a_failed_verification_mail_never_fails_the_signup(make_app):
    app = production_without_smtp(make_app)
    client = app.test_client()
    body = {"name": "Ada", "email": "ada@example.com", "password": PASSWORD}
    assert client.post("/auth/signup", json=body).status_code == 201
    login = client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json['token']}"}
    resend = client.post("/auth/resend-verification", headers=headers)
    assert (resend.status_code, resend.json["code"]) == (503, "mail_not_configured")
    change = {"new_email": "new@example.com", "current_password": PASSWORD}
    refused = client.post("/me/email", json=change, headers=headers)
    assert (refused.status_code, refused.json["code"]) == (503, "mail_not_configured")


def test_a_hostile_name_adds_no_header_and_no_recipient(world):
    world.signup("ada@example.com", name='Eve" <evil@example.com>, Bcc: victim@example.com')
    [message] = world.deliver()
    assert message["Bcc"] is None
    assert [a.addr_spec for a in message["To"].addresses] == ["ada@example.com"]
    assert world.server.recorder.envelopes[-1][1] == ["ada@example.com"]


def change(world, headers, new_email, password=PASSWORD):
    body = {"new_email": new_email, "current_password": password}
    return world.client.post("/me/email", json=body, headers=headers)


def test_the_address_changes_only_when_the_new_one_confirms(world):
    world.signup("ada@example.com")
    world.deliver()
    headers = world.login("ada@example.com")
    assert change(world, headers, " New@Example.com ").status_code == 202
    token = world.last_token("new@example.com", "verify-email")
    assert world.client.get("/auth/me", headers=headers).json["user"]["email"] == "ada@example.com"
    answer = verify(world, token)
    assert answer.status_code == 200
    assert answer.json["user"]["email"] == "new@example.com"
    assert answer.json["user"]["email_verified"] is True
    world.login("new@example.com")
    old = world.client.post("/auth/login", json={"email": "ada@example.com", "password": PASSWORD})
    assert old.status_code == 401


def test_a_change_needs_the_password_and_a_free_address(world):
    world.signup("ada@example.com")
    world.signup("bob@example.com")
    world.deliver()
    headers = world.login("ada@example.com")
    wrong = change(world, headers, "new@example.com", password="not-the-password")
    assert (wrong.status_code, wrong.json["code"]) == (403, "wrong_password")
    taken = change(world, headers, "BOB@example.com")
    assert (taken.status_code, taken.json["code"]) == (409, "email_taken")
    assert world.deliver() == []


def test_an_address_taken_before_the_confirmation_is_409(world):
    world.signup("ada@example.com")
    world.deliver()
    headers = world.login("ada@example.com")
    assert change(world, headers, "new@example.com").status_code == 202
    token = world.last_token("new@example.com", "verify-email")
    world.signup("new@example.com", name="Mallory")
    taken = verify(world, token)
    assert (taken.status_code, taken.json["code"]) == (409, "email_taken")
    assert world.client.get("/auth/me", headers=headers).json["user"]["email"] == "ada@example.com"


def test_a_superseded_change_and_a_link_for_an_old_address_are_refused(world):
    world.signup("ada@example.com")
    signup_token = world.last_token("ada@example.com", "verify-email")
    headers = world.login("ada@example.com")
    assert change(world, headers, "first@example.com").status_code == 202
    first = world.last_token("first@example.com", "verify-email")
    assert change(world, headers, "second@example.com").status_code == 202
    second = world.last_token("second@example.com", "verify-email")
    assert verify(world, first).json["code"] == INVALID
    assert verify(world, second).status_code == 200
    # The signup's link was for ada@example.com, which the account no longer has.
    assert verify(world, signup_token).json["code"] == INVALID


def test_a_reset_link_mailed_to_the_old_address_dies_with_the_change(world):
    world.signup("ada@example.com")
    world.deliver()
    headers = world.login("ada@example.com")
    world.client.post("/auth/password-reset", json={"email": "ada@example.com"})
    reset = world.last_token("ada@example.com", "reset-password")
    assert change(world, headers, "new@example.com").status_code == 202
    assert verify(world, world.last_token("new@example.com", "verify-email")).status_code == 200
    body = {"token": reset, "new_password": "taken-over-password"}
    refused = world.client.post("/auth/password-reset/confirm", json=body)
    assert (refused.status_code, refused.json["code"]) == (400, INVALID)
