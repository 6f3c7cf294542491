"""The production command, ``gunicorn -c gunicorn.conf.py "app:create_app()"``, serving media."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts.embedded_mongo import free_port
from tests.conftest import require_tool
from tests.players.clients import AVPLAYER_HEADERS
from tests.players.live_server import HttpClient

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.embedded]


@pytest.fixture
def gunicorn(live, tmp_path):
    """``gunicorn -c gunicorn.conf.py "app:create_app()"`` on the live server's database."""
    gunicorn_bin = Path(sys.executable).with_name("gunicorn")
    require_tool(gunicorn_bin.exists(), "gunicorn (make install)")
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "development",
        "MONGODB_URI": live.database_uri,
        "RATELIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
    }
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                str(gunicorn_bin),
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "app:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its workers can be stopped with it, whatever happens
        )
    try:
        yield process, HttpClient(f"http://127.0.0.1:{port}", timeout=10), log_path
    finally:
        stop_process_group(process)


def stop_process_group(process, timeout=20):
    if process.poll() is None:
        process.terminate()  # gunicorn's master stops its workers gracefully
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
    with contextlib.suppress(ProcessLookupError):  # workers left behind, if any
        os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:
        process.wait(5)


def wait_for_health(process, http, log_path, timeout=45):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"gunicorn exited:\n{log_path.read_text()}"
        try:
            reply = http.request("GET", "/health")
            if reply.status == 200:
                return reply
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer /health within {timeout}s:\n{log_path.read_text()}")


def test_gunicorn_with_the_repo_config_serves_health_and_ranges(gunicorn, ready, stored):
    process, http, log_path = gunicorn
    wait_for_health(process, http, log_path)

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
