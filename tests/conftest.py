"""Fixtures: the app on mongomock and on the embedded server, clients, users of each role.

API tests take ``app`` (or ``client``), which is parametrized over both
backends: ``mongomock`` for speed and ``embedded``, a real SecantusDB process
reached over a socket, so a query mongomock accepts but a server refuses is
caught. Each embedded test gets its own database, dropped afterwards.
"""

import os
import shutil
import uuid

import pytest

from app import create_app
from demo import synthetic_media
from models.common import object_id
from scripts.embedded_mongo import EmbeddedMongo

IN_CI = os.environ.get("CI", "").lower() == "true"
PASSWORD = "correct horse battery"


def require_tool(available, name):
    """Skip on a laptop without ``name``; in CI a missing tool is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{name} is required in CI but is not installed")
    pytest.skip(f"{name} is not installed")


@pytest.fixture(scope="session")
def embedded_server(tmp_path_factory):
    try:
        from scripts.embedded_mongo import server_command

        server_command()
        available = True
    except RuntimeError:
        available = False
    require_tool(available, "secantusd-py (SecantusDB)")
    base = tmp_path_factory.mktemp("secantus")
    server = EmbeddedMongo(base / "data", log_path=base / "secantusd.log")
    server.start()
    yield server
    release_rate_limit_storage()
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


def release_rate_limit_storage():
    """Close the limiter's MongoDB client while its server still runs (see close_connections)."""
    from app import close_rate_limit_storage

    close_rate_limit_storage()


def test_config(**overrides):
    """Settings for a test app: fast bcrypt, no rate limits unless a test turns them on."""
    config = {
        "APP_ENV": "testing",
        "BCRYPT_ROUNDS": 4,
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "ADMIN_EMAIL": "admin@test.example",
        "ADMIN_PASSWORD": "admin-test-password",
        "PROPAGATE_EXCEPTIONS": False,
    }
    config.update(overrides)
    return config


test_config.__test__ = False  # a helper, not a test


@pytest.fixture(params=["mongomock", "embedded"])
def backend(request):
    return request.param


@pytest.fixture
def database_uri(request, backend):
    if backend == "mongomock":
        yield f"mongomock://localhost/test_{uuid.uuid4().hex[:12]}"
        return
    server = request.getfixturevalue("embedded_server")
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield server.uri(name)
    from pymongo import MongoClient

    with MongoClient(server.uri(), serverSelectionTimeoutMS=2000) as client:
        client.drop_database(name)


@pytest.fixture
def make_app(database_uri):
    """Build an app on this test's database, with per-test overrides."""
    apps = []

    def build(**overrides):
        app = create_app(test_config(MONGODB_URI=database_uri, **overrides))
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["mongo"].client.close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


class Accounts:
    """Sign users up and in through the API, as a client would."""

    def __init__(self, client, app):
        self.client = client
        self.app = app

    def signup(self, email=None, role="viewer", name="Test User", password=PASSWORD):
        email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
        response = self.client.post(
            "/auth/signup", json={"name": name, "email": email, "password": password, "role": role}
        )
        assert response.status_code == 201, response.json
        return response.json["user"]

    def login(self, email, password=PASSWORD):
        response = self.client.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.json
        return response.json

    def user_with_token(self, role="viewer"):
        if role == "admin":
            email, password = self.app.config["ADMIN_EMAIL"], self.app.config["ADMIN_PASSWORD"]
            return self.login(email, password)
        user = self.signup(role=role)
        return self.login(user["email"])

    @staticmethod
    def bearer(bundle):
        token = bundle if isinstance(bundle, str) else bundle["token"]
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def accounts(client, app):
    return Accounts(client, app)


@pytest.fixture(scope="session")
def media(tmp_path_factory):
    """Real media files of every kind the pipeline handles, made once per run."""
    folder = tmp_path_factory.mktemp("media")
    text = folder / "notes.mp4"
    text.write_text("this is a text file pretending to be a video\n" * 200)
    return {
        "h264": synthetic_media.write_video(folder / "phone.mp4"),
        "moov_end": synthetic_media.write_video(folder / "moov-end.mp4", faststart=False),
        "mp4v": synthetic_media.write_opencv_mp4v(folder / "opencv.mp4"),
        "vp9": synthetic_media.write_video(
            folder / "clip.webm", video_codec="libvpx-vp9", audio_codec="libopus", container="webm"
        ),
        "mp3": synthetic_media.write_audio(folder / "song.mp3"),
        "text": text,
    }


@pytest.fixture(scope="session")
def multi_chunk_mp4(tmp_path_factory):
    """A real H.264 MP4 of ~1.5 MB: six GridFS chunks, so ranges cross chunk borders."""
    path = tmp_path_factory.mktemp("playback") / "noise.mp4"
    return synthetic_media.write_noise_video(path, 1.3, width=320, height=240)


class Library:
    """Ready videos put straight into the database (no processing), and playback tokens."""

    def __init__(self, app, client, accounts):
        self.app, self.client, self.accounts = app, client, accounts
        self.owner = accounts.user_with_token("creator")

    def ready_video(self, path, **fields):
        from models import media_file
        from models import video as videos
        from services import thumbnails

        with self.app.app_context():
            file_id, size, sha256 = media_file.store(path, path.name, "video/mp4")
            jpeg = thumbnails.thumbnail_jpeg(path)
            thumb_id, thumb_sha = media_file.store_bytes(jpeg, "thumb.jpg", "image/jpeg")
            document = videos.insert(
                {
                    "owner_id": object_id(self.owner["user"]["id"]),
                    "owner_name": self.owner["user"]["name"],
                    "title": fields.pop("title", "Stored clip"),
                    "description": "",
                    "visibility": fields.pop("visibility", "public"),
                    "kind": "video",
                }
            )
            ready = {
                "status": videos.READY,
                "media_file_id": file_id,
                "size": size,
                "sha256": sha256,
                "mime_type": "video/mp4",
                "duration": 2.0,
                "thumbnail_file_id": thumb_id,
                "thumbnail_sha256": thumb_sha,
                **fields,
            }
            videos.update(document["_id"], **ready)
        return {"id": str(document["_id"]), "bytes": path.read_bytes(), **ready}

    def playback_token(self, video_id, bundle):
        response = self.client.post(
            f"/video/{video_id}/playback-token", headers=self.accounts.bearer(bundle)
        )
        assert response.status_code == 200, response.json
        return response.json["playback_token"]


@pytest.fixture
def library(app, client, accounts):
    return Library(app, client, accounts)


@pytest.fixture
def viewer(accounts):
    return accounts.user_with_token("viewer")
