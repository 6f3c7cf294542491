"""Real players against a real HTTP server (docs/clients.md#players, docs/playback.md).

The app runs on a socket (werkzeug's threaded server; gunicorn with the repo's
config in test_gunicorn) on the embedded database. A real 20 s H.264 + AAC MP4
goes in through ``POST /video/upload`` like a creator's, and a viewer's
playback token opens it in ffprobe, ffmpeg (a seek), an iOS AVPlayer-like
opening sequence and headless Chromium. A recorder on the app keeps the Range
header and answer of every media request, so each test checks what the client
actually asked, not only what it ended up with.

Tools come from ``scripts/install_test_tools.sh`` (``make tools``); a missing
one skips on a laptop and fails in CI.
"""

import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from pymongo import MongoClient

from app import create_app
from demo import synthetic_media
from tests.players.clients import SECONDS
from tests.support.apps import test_config
from tests.support.live_server import HttpClient, LiveServer, MediaRecorder


@dataclass
class Live:
    server: LiveServer
    recorder: MediaRecorder
    http: HttpClient
    database_uri: str


@dataclass
class Ready:
    """An uploaded, processed video and a viewer who may play it."""

    video_id: str
    viewer_token: str
    playback_token: str
    media_url: str

    @property
    def media_path(self):
        parts = urlsplit(self.media_url)
        return f"{parts.path}?{parts.query}"


@pytest.fixture(scope="session")
def live(embedded_server):
    name = f"players_{uuid.uuid4().hex[:12]}"
    uri = embedded_server.uri(name)
    app = create_app(test_config(MONGODB_URI=uri))
    recorder = MediaRecorder(app)
    server = LiveServer(app).start()
    try:
        yield Live(server, recorder, HttpClient(server.base_url), uri)
    finally:
        server.stop()
        app.extensions["mongo"].client.close()
        with MongoClient(embedded_server.uri(), serverSelectionTimeoutMS=2000) as client:
            client.drop_database(name)


@pytest.fixture(scope="session")
def ready(live, tmp_path_factory):
    """A creator uploads a real 20 s MP4 over HTTP; a viewer gets a playback token for it."""
    folder = tmp_path_factory.mktemp("real-players")
    source = synthetic_media.write_video(
        folder / "twenty-seconds.mp4", seconds=SECONDS, width=640, height=360, keyframe_seconds=2
    )
    http = live.http
    creator = http.signup_and_login("creator")
    reply = http.upload(
        "/video/upload",
        {"title": "Twenty seconds", "visibility": "public"},
        source.name,
        source.read_bytes(),
        "video/mp4",
        headers=http.bearer(creator),
    )
    assert reply.status == 202, reply.body[:300]
    video_id = reply.json()["video"]["id"]
    http.wait_until_ready(video_id, creator)

    viewer = http.signup_and_login("viewer")
    reply = http.request("POST", f"/video/{video_id}/playback-token", headers=http.bearer(viewer))
    assert reply.status == 200, reply.body[:300]
    minted = reply.json()
    assert minted["stream_url"].startswith(live.server.base_url + "/"), minted["stream_url"]
    return Ready(video_id, viewer, minted["playback_token"], minted["stream_url"])


@pytest.fixture(scope="session")
def stored(live, ready):
    """The stored rendition, downloaded once with no Range: what every slice is compared with."""
    reply = live.http.request("GET", ready.media_path)
    assert reply.status == 200
    assert reply.headers["Accept-Ranges"] == "bytes"
    assert int(reply.headers["Content-Length"]) == len(reply.body)
    assert len(reply.body) > 100_000
    return reply.body
