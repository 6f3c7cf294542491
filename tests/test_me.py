"""/me: the caller's name, password and signed-in devices.

A password change ends every other session at once (access, refresh and playback tokens),
and keeps the caller's; a wrong current password is 403, never 401. Each login is a device
in ``GET /me/sessions``; one or all the others can be ended. "Last used" is written at most
once per ``services.devices.LAST_USED_EVERY``: time is moved by a patched clock.
(docs/accounts.md#me-name-password-devices)
"""

from datetime import timedelta

import pytest
from bson import ObjectId

from models import session as sessions
from models.common import as_utc
from models.db import get_db
from services import devices, tokens
from tests.support.accounts import PASSWORD
from tests.support.errors import assert_error

IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
ANDROID_APP = "okhttp/4.9.2"
NEW_PASSWORD = "a brand new passphrase"


def login(client, email, password=PASSWORD, user_agent=None):
    headers = {"User-Agent": user_agent} if user_agent else {}
    response = client.post(
        "/auth/login", json={"email": email, "password": password}, headers=headers
    )
    assert response.status_code == 200, response.json
    return response.json


def bearer(bundle):
    return {"Authorization": f"Bearer {bundle['access_token']}"}


def session_id(app, bundle):
    with app.app_context():
        return tokens.decode(bundle["access_token"], tokens.ACCESS)["sid"]


def me_status(client, bundle):
    return client.get("/auth/me", headers=bearer(bundle)).status_code


def refresh_status(client, bundle):
    return client.post("/auth/refresh", json={"refresh_token": bundle["refresh_token"]}).status_code


@pytest.fixture
def person(accounts):
    """An account and two of its sessions: ``this`` (the caller's) and ``other``."""
    user = accounts.signup()
    return {
        "email": user["email"],
        "this": login(accounts.client, user["email"], user_agent=IPHONE_SAFARI),
        "other": login(accounts.client, user["email"], user_agent=ANDROID_APP),
    }


def test_patch_me_renames_the_caller(client, person):
    response = client.patch("/me", json={"name": "  Ada Lovelace "}, headers=bearer(person["this"]))
    assert response.status_code == 200, response.json
    assert response.json["user"]["name"] == "Ada Lovelace"
    assert "password_hash" not in response.json["user"]
    assert client.get("/auth/me", headers=bearer(person["other"])).json["user"]["name"] == (
        "Ada Lovelace"
    )


@pytest.mark.parametrize(
    "name", ["", "   ", "x" * 101, "Ada\u202egnp.exe", "Ada\nLovelace", None, {"$ne": ""}]
)
def test_patch_me_refuses_what_signup_refuses(client, person, name):
    response = client.patch("/me", json={"name": name}, headers=bearer(person["this"]))
    assert_error(response, 400)
    assert client.get("/auth/me", headers=bearer(person["this"])).json["user"]["name"] == (
        "Test User"
    )


def test_patch_me_needs_the_access_token(client):
    assert_error(client.patch("/me", json={"name": "Ada"}), 401)


def change_password(client, bundle, current=PASSWORD, new=NEW_PASSWORD):
    return client.put(
        "/me/password",
        json={"current_password": current, "new_password": new},
        headers=bearer(bundle),
    )


def test_password_change_ends_every_other_session_and_keeps_this_one(
    app, client, person, library, media
):
    video = library.ready_video(media["h264"])
    other_playback = library.playback_token(video["id"], person["other"])
    media_path = f"/video/{video['id']}/media?token={other_playback}"
    assert client.get(media_path, headers={"Range": "bytes=0-1"}).status_code == 206

    response = change_password(client, person["this"])
    assert response.status_code == 200, response.json

    assert me_status(client, person["other"]) == 401
    assert refresh_status(client, person["other"]) == 401
    assert_error(client.get(media_path, headers={"Range": "bytes=0-1"}), 401)
    assert me_status(client, person["this"]) == 200
    assert refresh_status(client, person["this"]) == 200
    assert client.post(
        "/auth/login", json={"email": person["email"], "password": PASSWORD}
    ).status_code == (401)
    login(client, person["email"], NEW_PASSWORD)


def test_a_wrong_current_password_is_403_and_changes_nothing(client, person):
    response = change_password(client, person["this"], current="not the password")
    assert_error(response, 403, "wrong_password")
    assert me_status(client, person["this"]) == 200
    assert me_status(client, person["other"]) == 200
    login(client, person["email"])


@pytest.mark.parametrize("new", ["short", "x" * 129, 12345678])
def test_the_new_password_follows_the_signup_rules(client, person, new):
    assert_error(change_password(client, person["this"], new=new), 400)
    assert me_status(client, person["other"]) == 200
    login(client, person["email"])


def test_a_long_new_password_counts_every_character(client, person):
    long_password = "é" * 128  # 256 bytes in UTF-8: past bcrypt's 72, never cut
    assert change_password(client, person["this"], new=long_password).status_code == 200
    login(client, person["email"], long_password)
    assert client.post(
        "/auth/login", json={"email": person["email"], "password": "é" * 127 + "e"}
    ).status_code == (401)


def test_password_change_is_rate_limited_per_address(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="2 per minute")
    client = app.test_client()
    email = "limited@example.com"
    signup = {"name": "Limited", "email": email, "password": PASSWORD}
    assert client.post("/auth/signup", json=signup).status_code == 201
    bundle = login(client, email)
    for _ in range(2):
        assert_error(change_password(client, bundle, current="wrong guess!"), 403)
    assert_error(change_password(client, bundle, current="wrong guess!"), 429)


def test_sessions_lists_each_device_newest_first_and_marks_the_current(app, client, person):
    response = client.get("/me/sessions", headers=bearer(person["other"]))
    assert response.status_code == 200, response.json
    listed = response.json["sessions"]
    assert [entry["id"] for entry in listed] == [
        session_id(app, person["other"]),
        session_id(app, person["this"]),
    ]
    assert [entry["device"] for entry in listed] == ["okhttp (Android app)", "Safari on iPhone"]
    assert [entry["current"] for entry in listed] == [True, False]
    for entry in listed:
        assert entry["created_at"].endswith("Z") and entry["last_used_at"].endswith("Z")


def test_sessions_lists_only_the_callers_live_sessions(app, client, accounts, person):
    stranger = accounts.user_with_token()
    client.post("/auth/logout", headers=bearer(person["other"]))
    listed = client.get("/me/sessions", headers=bearer(person["this"])).json["sessions"]
    assert [entry["id"] for entry in listed] == [session_id(app, person["this"])]
    assert session_id(app, stranger) not in {entry["id"] for entry in listed}


def test_ending_another_session_logs_that_device_out(app, client, person):
    other = session_id(app, person["other"])
    response = client.delete(f"/me/sessions/{other}", headers=bearer(person["this"]))
    assert response.status_code == 200, response.json
    assert me_status(client, person["other"]) == 401
    assert refresh_status(client, person["other"]) == 401
    assert me_status(client, person["this"]) == 200
    assert_error(client.delete(f"/me/sessions/{other}", headers=bearer(person["this"])), 404)


def test_someone_elses_session_or_an_unknown_one_is_404(app, client, accounts, person):
    stranger = accounts.user_with_token()
    for target in (session_id(app, stranger), str(ObjectId()), "not-an-id"):
        response = client.delete(f"/me/sessions/{target}", headers=bearer(person["this"]))
        assert_error(response, 404)
    assert me_status(client, stranger) == 200


def test_ending_the_current_session_logs_this_client_out(app, client, person):
    this = session_id(app, person["this"])
    assert client.delete(f"/me/sessions/{this}", headers=bearer(person["this"])).status_code == (
        200
    )
    assert me_status(client, person["this"]) == 401
    assert me_status(client, person["other"]) == 200


def test_ending_all_other_sessions_keeps_this_one(app, client, person):
    third = login(client, person["email"])
    response = client.delete("/me/sessions", headers=bearer(person["this"]))
    assert response.status_code == 200, response.json
    assert response.json["ended"] == 2
    assert me_status(client, person["other"]) == 401
    assert me_status(client, third) == 401
    assert me_status(client, person["this"]) == 200
    listed = client.get("/me/sessions", headers=bearer(person["this"])).json["sessions"]
    assert [(entry["id"], entry["current"]) for entry in listed] == [
        (session_id(app, person["this"]), True)
    ]


class Clock:
    """Moves the clock ``services.devices`` reads (``utcnow``) forward by ``offset``."""

    def __init__(self, monkeypatch):
        self.offset = timedelta()
        real = devices.utcnow
        monkeypatch.setattr(devices, "utcnow", lambda: real() + self.offset)


@pytest.fixture
def writes(monkeypatch):
    """The calls of ``models.session.touch`` (each one write), which still run."""
    calls = []
    real_touch = sessions.touch

    def touch(*args):
        calls.append(args)
        return real_touch(*args)

    monkeypatch.setattr(sessions, "touch", touch)
    return calls


def test_last_used_is_written_at_most_once_per_interval(app, client, person, monkeypatch, writes):
    clock = Clock(monkeypatch)
    this = ObjectId(session_id(app, person["this"]))

    def last_used():
        with app.app_context():
            return get_db().sessions.find_one({"_id": this})["last_used_at"]

    logged_in_at = last_used()
    for minutes in (0, 1, 4):
        clock.offset = timedelta(minutes=minutes)
        assert me_status(client, person["this"]) == 200
    assert writes == [] and last_used() == logged_in_at

    clock.offset = devices.LAST_USED_EVERY + timedelta(minutes=1)
    assert me_status(client, person["this"]) == 200
    assert len(writes) == 1
    moved = last_used()
    assert moved - logged_in_at >= devices.LAST_USED_EVERY

    clock.offset += timedelta(minutes=2)
    assert me_status(client, person["this"]) == 200
    assert len(writes) == 1 and last_used() == moved
    listed = client.get("/me/sessions", headers=bearer(person["this"])).json["sessions"]
    assert listed[1]["last_used_at"] > listed[1]["created_at"]


def test_a_session_from_before_last_used_gets_it_once(app, client, person, writes):
    this = ObjectId(session_id(app, person["this"]))
    with app.app_context():
        get_db().sessions.update_one({"_id": this}, {"$unset": {"last_used_at": 1}})
    for _ in range(3):
        assert me_status(client, person["this"]) == 200
    assert len(writes) == 1
    with app.app_context():
        assert get_db().sessions.find_one({"_id": this})["last_used_at"] is not None


def test_touch_writes_once_when_processes_race(app, person):
    this = ObjectId(session_id(app, person["this"]))
    with app.app_context():
        stored = get_db().sessions.find_one
        now = as_utc(stored({"_id": this})["last_used_at"]) + timedelta(hours=1)
        since = now - devices.LAST_USED_EVERY
        sessions.touch(this, now, since)
        sessions.touch(this, now + timedelta(seconds=1), since)  # another process, later
        assert as_utc(stored({"_id": this})["last_used_at"]) == now
