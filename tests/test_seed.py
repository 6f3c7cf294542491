"""seed_videos.py: idempotent demo data that went through the real pipeline."""

import pytest

from models.db import get_db
from seed_videos import DEMO_PASSWORD, seed, seed_if_empty


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
def test_seed_is_idempotent_and_videos_are_real(make_app):
    app = make_app(APP_ENV="development")
    assert len(seed(app)) == 4
    assert seed(app) == []
    assert seed_if_empty(app) == []
    app.extensions["media_jobs"].executor.shutdown(wait=True)
    with app.app_context():
        found = list(get_db().videos.find())
        emails = {user["email"] for user in get_db().users.find()}
    assert len(found) == 4
    assert sorted(video["visibility"] for video in found) == ["public"] * 3 + ["unlisted"]
    for video in found:
        assert video["status"] == "ready", video.get("failure_reason")
        assert (video["video_codec"], video["audio_codec"]) == ("h264", "aac")
        assert 10 <= video["duration"] <= 30
        assert video["thumbnail_file_id"] is not None
    assert {"creator@example.com", "viewer@example.com", "admin@test.example"} <= emails
    login = app.test_client().post(
        "/auth/login", json={"email": "viewer@example.com", "password": DEMO_PASSWORD}
    )
    viewer = {"Authorization": f"Bearer {login.json['token']}"}
    client = app.test_client()
    assert len(client.get("/dashboard", headers=viewer).json["videos"]) == 3  # public only
    unlisted = next(video for video in found if video["visibility"] == "unlisted")
    path = f"/video/{unlisted['_id']}"
    assert client.get(path, headers=viewer).status_code == 404
    assert client.get(f"{path}?key={unlisted['share_key']}", headers=viewer).status_code == 200


@pytest.mark.parametrize("backend", ["mongomock"], indirect=True)
def test_production_seed_makes_no_demo_accounts(make_app, monkeypatch):
    for name in ("SECRET_KEY", "JWT_SECRET_KEY", "PLAYBACK_SECRET_KEY"):
        monkeypatch.setenv(name, name.lower() * 4)
    app = make_app(APP_ENV="production", BCRYPT_ROUNDS=12, ADMIN_EMAIL=None, ADMIN_PASSWORD=None)
    assert seed(app) == []
    with app.app_context():
        assert get_db().users.count_documents({}) == 0
