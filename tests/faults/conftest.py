"""Faults against real servers: clients that hang up, a database that dies mid-request.

One gunicorn (the repo's gunicorn.conf.py, one worker of two threads, TMPDIR
pointed at a folder of this package's) and one embedded database of its own,
shared by the modules here, which the tests kill with SIGKILL and start again on
the same port and storage path; the session's ``embedded_server`` is never
touched. gunicorn is never restarted: it must recover by itself.
"""

import json
import shutil

import pytest

from demo import synthetic_media
from tests.support.faults import (
    STREAM_MB,
    Servers,
    tool_available,
    upload_file,
)
from tests.support.tools import require_tool


@pytest.fixture(scope="package")
def servers(tmp_path_factory):
    require_tool(tool_available(), "secantusd-py (SecantusDB)")
    base = tmp_path_factory.mktemp("faults")
    servers = Servers(base)
    try:
        servers.start()
        yield servers
    finally:
        servers.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(autouse=True)
def database_up(servers):
    servers.database_up()
    yield


@pytest.fixture(scope="package")
def media_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fault-media")


@pytest.fixture(scope="package")
def ready_stream(servers, media_dir):
    """A real H.264 MP4 of STREAM_MB uploaded and processed: (video id, playback token, bytes)."""
    path = synthetic_media.write_noise_video(
        media_dir / "stream.mp4", STREAM_MB, width=640, height=360
    )
    status, _, body = upload_file(servers.port, servers.creator, path)
    assert status == 202, body[:300]
    video_id = json.loads(body)["video"]["id"]
    servers.http.wait_until_ready(video_id, servers.creator, timeout=120)
    reply = servers.http.request(
        "POST", f"/video/{video_id}/playback-token", headers=servers.http.bearer(servers.creator)
    )
    assert reply.status == 200, reply.body[:300]
    return video_id, reply.json()["playback_token"], path.read_bytes()
