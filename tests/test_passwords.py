"""services/passwords.py: bcrypt over a pre-hash, and the accounts hashed before it."""

import base64
import hashlib
import hmac

import bcrypt
import pytest
from flask import Flask

from services import passwords
from tests.support.passwords import bcrypt_costs


@pytest.fixture(autouse=True)
def bcrypt_settings():
    app = Flask(__name__)
    app.config["BCRYPT_ROUNDS"] = 4
    with app.app_context():
        yield


def test_a_new_hash_names_its_scheme_and_is_bcrypt_of_the_pre_hash():
    stored = passwords.hash_password("correct horse")
    assert stored.startswith(passwords.PREHASHED)
    bcrypt_part = stored.removeprefix(passwords.PREHASHED).encode()
    assert bcrypt_part.startswith(b"$2b$04$")
    # The pre-hash: base64 of HMAC-SHA256 of the UTF-8 password, under a fixed, public key.
    digest = hmac.new(b"video-app password pre-hash v1", b"correct horse", hashlib.sha256)
    assert bcrypt.checkpw(base64.b64encode(digest.digest()), bcrypt_part)


def test_the_pre_hash_key_never_changes():
    """Changing it would lock every account out: it is a constant, not a secret."""
    assert passwords.PREHASH_KEY == b"video-app password pre-hash v1"


@pytest.mark.parametrize(
    "password", ["correct horse", "x" * 128, "😀" * 128, "nul\x00inside", "ä" * 8]
)
def test_check_takes_exactly_the_password(password):
    stored = passwords.hash_password(password)
    assert passwords.check(password, stored)
    assert not passwords.check(password + "x", stored)
    assert not passwords.check(password[:-1], stored)
    assert not passwords.needs_upgrade(stored)


def test_a_legacy_hash_is_checked_the_old_way_and_needs_an_upgrade():
    legacy = bcrypt.hashpw("é".encode() * 36, bcrypt.gensalt(4)).decode()
    assert passwords.check("é" * 36, legacy)
    assert not passwords.check("é" * 35, legacy)
    assert not passwords.check("é" * 37, legacy)  # 74 bytes: no legacy hash can match
    assert passwords.needs_upgrade(legacy)


def test_no_hash_spends_a_bcrypt_check_and_says_no(monkeypatch):
    costs = bcrypt_costs(monkeypatch)
    assert not passwords.check("x" * 128, None)
    assert not passwords.check("short", "")
    assert costs == [4, 4]
