"""The production command, ``gunicorn -c gunicorn.conf.py "app:create_app()"``, serving media."""

import os
import sys
from pathlib import Path

import pytest

from devtools.gunicorn_process import GunicornProcess
from tests.players.clients import AVPLAYER_HEADERS
from tests.support.live_server import HttpClient
from tests.support.tools import require_tool

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.embedded]


@pytest.fixture
def gunicorn(live, tmp_path):
    """``gunicorn -c gunicorn.conf.py "app:create_app()"`` on the live server's database."""
    require_tool(Path(sys.executable).with_name("gunicorn").exists(), "gunicorn (make install)")
    env = {
        **os.environ,
        "APP_ENV": "development",
        "MONGODB_URI": live.database_uri,
        "RATELIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        **live.cache_settings(),  # with the cache on: the copies the live app made, by sendfile
    }
    with GunicornProcess(env, tmp_path / "gunicorn.log", workers=2) as server:
        yield HttpClient(server.base_url, timeout=10)


def test_gunicorn_with_the_repo_config_serves_health_and_ranges(gunicorn, ready, stored):
    http = gunicorn
    connection = http.connection()
    try:
        connection.request(
            "GET", ready.media_path, headers={**AVPLAYER_HEADERS, "Range": "bytes=0-1"}
        )
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 206
    assert body == stored[:2]
    assert response.headers["Content-Length"] == "2"
    assert response.headers["Content-Range"] == f"bytes 0-1/{len(stored)}"


def test_a_304_from_gunicorn_keeps_etag_last_modified_and_cache_control(gunicorn, ready):
    """What arrives on the wire, through gunicorn: werkzeug strips Last-Modified from a 304
    unless the app puts it back."""
    first = gunicorn.request("GET", ready.media_path, headers={"Range": "bytes=0-0"})
    assert first.status == 206
    again = gunicorn.request(
        "GET", ready.media_path, headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status == 304
    assert again.body == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Last-Modified"] == first.headers["Last-Modified"]
    assert again.headers["Cache-Control"].startswith("private, max-age=")
