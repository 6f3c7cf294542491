"""Fixtures: the app on mongomock and on the embedded server, clients, users of each role.

API tests take ``app`` (or ``client``), which is parametrized over both
backends: ``mongomock`` for speed and ``embedded``, a real SecantusDB process
reached over a socket, so a query mongomock accepts but a server refuses is
caught. Each embedded test gets its own database, dropped afterwards.

Only fixtures live here; the code behind them (``Accounts``, ``Library``,
``test_config``, ``require_tool``) is in tests/support/, where a test imports it.
"""

import os
import shutil
import uuid

import pytest

from app import create_app, stop_background_work
from demo import synthetic_media
from devtools.embedded_mongo import EmbeddedMongo
from tests.support.accounts import Accounts, Library
from tests.support.apps import release_rate_limit_storage, test_config
from tests.support.mail import SmtpServer, self_signed_certificate
from tests.support.mongomock_lock import install as serialise_mongomock
from tests.support.tools import require_tool

# Processes the tests start in development mode (gunicorn, the seed, fault injection) would
# otherwise keep media copies under ./data: the cache is on only where a test turns it on.
os.environ.setdefault("MEDIA_CACHE_MB", "0")
serialise_mongomock()  # processing threads and requests share mongomock documents


@pytest.fixture(scope="session")
def embedded_server(tmp_path_factory):
    try:
        from devtools.embedded_mongo import server_command

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


@pytest.fixture(params=["mongomock", "embedded"])
def backend(request):
    return request.param


@pytest.fixture
def database_uri(request, backend):
    if backend == "mongomock":
        yield f"mongomock://localhost/test_{uuid.uuid4().hex[:12]}"
        return
    yield request.getfixturevalue("embedded_database")


@pytest.fixture
def embedded_database(embedded_server):
    """The URI of a database of its own on the embedded server, dropped after the test: for
    tests that run on the real server only (several processes sharing one database)."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield embedded_server.uri(name)
    from pymongo import MongoClient

    with MongoClient(embedded_server.uri(), serverSelectionTimeoutMS=2000) as client:
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
        # A development or production app runs its sweeps: stopped first, or they log failures
        # from threads (and a traceback's formatting races pytest's own ast.parse on 3.11).
        stop_background_work(app)
        app.extensions["mongo"].client.close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


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


@pytest.fixture
def library(app, client, accounts):
    return Library(app, client, accounts)


@pytest.fixture
def viewer(accounts):
    return accounts.user_with_token("viewer")


@pytest.fixture(scope="session")
def smtp_certificate(tmp_path_factory):
    """A throwaway self-signed certificate for 127.0.0.1 (openssl), for STARTTLS and smtps."""
    require_tool(shutil.which("openssl") is not None, "openssl")
    return self_signed_certificate(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def smtp_server():
    """Start a real SMTP server (aiosmtpd) on a free port: ``smtp_server(mode, ...)``."""
    servers = []

    def start(mode="plain", **options):
        server = SmtpServer(mode, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def stripe_quick_retries(monkeypatch):
    """The stripe library retrying as it does, without its half-second back-off."""
    import stripe

    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(stripe.HTTPClient, "MAX_DELAY", 0.02)
