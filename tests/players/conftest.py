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

import importlib.util
import os
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from pymongo import MongoClient

from app import create_app
from demo import synthetic_media
from tests.players.clients import SECONDS
from tests.support.apps import test_config
from tests.support.cached_media import Lookups, cache_settings, warm
from tests.support.live_server import HttpClient, LiveServer, MediaRecorder
from tests.support.tools import require_tool

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@dataclass
class Live:
    server: LiveServer
    recorder: MediaRecorder
    http: HttpClient
    database_uri: str
    cache_dir: str | None  # the media cache's directory; None: every byte from GridFS
    lookups: Lookups | None

    def warm(self, video_id):
        """With the cache on, the video's files are copied before any player asks: every byte
        a player then gets comes from a verified local copy (checked after each test)."""
        if self.cache_dir is not None:
            warm(self.server.app, video_id)

    def cache_settings(self):
        """What another process on this host (gunicorn) needs to share the cache."""
        if self.cache_dir is None:
            return {"MEDIA_CACHE_MB": "0"}
        return {key: str(value) for key, value in cache_settings(self.cache_dir).items()}


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


@pytest.fixture(scope="session", params=["gridfs", "cache"])
def live(request, embedded_server, tmp_path_factory):
    """The app on a socket: every player test runs with the media cache off (bytes from
    GridFS) and on (bytes from the warmed local copies, sent by sendfile under gunicorn)."""
    name = f"players_{uuid.uuid4().hex[:12]}"
    uri = embedded_server.uri(name)
    cache_dir = None
    if request.param == "cache":
        cache_dir = str(tmp_path_factory.mktemp("media-cache"))
    settings = cache_settings(cache_dir) if cache_dir else {}
    app = create_app(test_config(MONGODB_URI=uri, **settings))
    recorder = MediaRecorder(app)
    lookups = Lookups(app) if cache_dir else None
    server = LiveServer(app).start()
    try:
        yield Live(server, recorder, HttpClient(server.base_url), uri, cache_dir, lookups)
    finally:
        server.stop()
        app.extensions["mongo"].client.close()
        with MongoClient(embedded_server.uri(), serverSelectionTimeoutMS=2000) as client:
            client.drop_database(name)


@pytest.fixture(scope="session")
def publish(live):
    """``publish(source, title)``: a new creator uploads the file over HTTP as a public video
    and waits until it is ready, then a new viewer mints a playback token for it. Returns
    (video id, the viewer's access token, the token reply's JSON)."""
    http = live.http

    def upload_and_mint(source, title):
        creator = http.signup_and_login("creator")
        reply = http.upload(
            "/video/upload",
            {"title": title, "visibility": "public"},
            source.name,
            source.read_bytes(),
            "video/mp4",
            headers=http.bearer(creator),
        )
        assert reply.status == 202, reply.body[:300]
        video_id = reply.json()["video"]["id"]
        http.wait_until_ready(video_id, creator)
        live.warm(video_id)
        viewer = http.signup_and_login("viewer")
        path = f"/video/{video_id}/playback-token"
        reply = http.request("POST", path, headers=http.bearer(viewer))
        assert reply.status == 200, reply.body[:300]
        return video_id, viewer, reply.json()

    return upload_and_mint


@pytest.fixture(autouse=True)
def bytes_from_the_copies(request):
    """With the cache on, a player test that read media got it all from the local copies."""
    if "live" not in request.fixturenames:
        yield
        return
    live = request.getfixturevalue("live")
    misses = live.lookups.misses if live.lookups else 0
    yield
    if live.lookups:
        assert live.lookups.misses == misses, "a byte route missed the warmed cache"


@pytest.fixture(scope="session")
def ready(live, publish, tmp_path_factory):
    """A creator uploads a real 20 s MP4 over HTTP; a viewer gets a playback token for it."""
    folder = tmp_path_factory.mktemp("real-players")
    source = synthetic_media.write_video(
        folder / "twenty-seconds.mp4", seconds=SECONDS, width=640, height=360, keyframe_seconds=2
    )
    video_id, viewer, minted = publish(source, "Twenty seconds")
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


@pytest.fixture
def chromium(tmp_path):
    """Headless Chromium through chromedriver, with its own profile; autoplay allowed."""
    require_tool(
        os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER), "chromium + chromedriver"
    )
    require_tool(importlib.util.find_spec("selenium"), "selenium (make install)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--autoplay-policy=no-user-gesture-required",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    service = Service(CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    try:
        driver.set_script_timeout(30)
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()
