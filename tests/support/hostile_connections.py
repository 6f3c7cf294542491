"""Hostile connections for tests/test_hostile_connections.py, and the servers they attack.

No account is needed for any of them: a half-sent request is a socket that
stops mid-head or mid-body; a paused player sends its GET for a media URL (a
playback token handed out by the API, as any viewer has) and never reads.
Each player keeps a small receive buffer, so the server's writes stall after
a few KiB, as they would behind a player whose buffer is full. Attackers
come from many loopback addresses (127.0.1.x), as a crowd would, each under
the proxy's per-address limit; /health is asked from 127.0.0.1.
"""

import contextlib
import http.client
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import time

from demo import synthetic_media
from devtools.embedded_mongo import EmbeddedMongo, free_port
from devtools.gunicorn_process import ROOT, GunicornProcess
from tests.support.faults import upload_file, wait_until
from tests.support.live_server import HttpClient

NGINX_CONF = ROOT / "deploy" / "nginx.conf"
PLACEHOLDER = re.compile(r"\$\{([A-Z_]+)\}")
HEALTH_TIMEOUT = 5  # seconds a /health request may take before the test fails (goal: 1 s)
SETTLE_TIMEOUT = 60  # seconds the server may take to serve the attackers' first bytes
PLAYER_RECEIVE_BUFFER = 4096
PER_ADDRESS = 8  # attackers per source address, well under the proxy's limit


def attacker_address(index):
    return f"127.0.1.{index // PER_ADDRESS + 1}"


def connect(port, source, receive_buffer=None):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer:
        # Before connect(), so the window the client advertises is small from the start.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(10)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def half_sent_requests(port, count):
    """Half of them stop in the middle of the head, half in the middle of a small JSON body."""
    sockets = []
    for index in range(count):
        sock = connect(port, attacker_address(index))
        if index % 2:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow")
        else:
            sock.sendall(
                b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 60\r\n\r\n"
                b'{"email": "x@example.com",'
            )
        sockets.append(sock)
    return sockets


def paused_players(port, media_path, count, source=None):
    """GETs of the whole file (as a browser's first `bytes=0-`) that are never read."""
    sockets = []
    for index in range(count):
        address = source or attacker_address(index)
        sock = connect(port, address, receive_buffer=PLAYER_RECEIVE_BUFFER)
        sock.sendall(
            f"GET {media_path} HTTP/1.1\r\nHost: 127.0.0.1\r\nRange: bytes=0-\r\n\r\n".encode()
        )
        sockets.append(sock)
    return sockets


def close_all(sockets):
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.close()


def health_status(port, timeout=HEALTH_TIMEOUT):
    """/health's status; a server that does not answer within ``timeout`` raises."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/health")
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def still_open(sockets):
    """How many of ``sockets`` the server has not closed (a closed one reads EOF or fails)."""
    count = 0
    for sock in sockets:
        sock.setblocking(False)
        try:
            count += sock.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError:
            count += 1
        except OSError:
            pass
    return count


def settle(port):
    """Wait (up to SETTLE_TIMEOUT) until /health answers: the attackers' requests are taken in.

    A server that gives each of them a thread for good never gets here.
    """
    return health_status(port, timeout=SETTLE_TIMEOUT)


# The servers


def app_environment(database_uri, **overrides):
    return {
        **os.environ,
        "APP_ENV": "development",
        "MONGODB_URI": database_uri,
        "RATELIMIT_ENABLED": "false",
        "RATELIMIT_STORAGE_URI": "memory://",
        "BCRYPT_ROUNDS": "4",
        "LOG_LEVEL": "WARNING",
        **overrides,
    }


class AppServers:
    """The embedded database and the production gunicorn command (2 workers) on free ports."""

    def __init__(self, base, **environment):
        self.base = base
        self.database = EmbeddedMongo(base / "data", log_path=base / "secantusd.log")
        env = app_environment(self.database.uri("hostile"), **environment)
        self.gunicorn = GunicornProcess(env, base / "gunicorn.log", workers=2)

    def start(self):
        self.database.start()
        self.gunicorn.start().wait_until_healthy()
        return self

    def seed_video(self, megabytes=4):
        """A real MP4 uploaded and processed; the path of its media with a playback token."""
        http = HttpClient(self.gunicorn.base_url, timeout=60)
        creator = http.signup_and_login("creator")
        path = synthetic_media.write_noise_video(self.base / "clip.mp4", megabytes, 640, 360)
        status, _, body = upload_file(self.gunicorn.port, creator, path)
        assert status == 202, body[:300]
        video_id = json.loads(body)["video"]["id"]
        http.wait_until_ready(video_id, creator, timeout=120)
        reply = http.request(
            "POST", f"/video/{video_id}/playback-token", headers=http.bearer(creator)
        )
        assert reply.status == 200, reply.body[:300]
        return f"/video/{video_id}/media?token={reply.json()['playback_token']}"

    def stop(self):
        self.gunicorn.stop()
        self.database.stop()


def nginx_binary():
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")


class Nginx:
    """The repo's deploy/nginx.conf, run as this user with its own prefix, temp paths and pid."""

    def __init__(self, base, upstream_port):
        self.prefix = base / "nginx"
        self.port = free_port()
        self.upstream_port = upstream_port
        self.process = None
        self.log_path = base / "nginx.log"

    def render(self):
        """deploy/nginx.conf with its placeholders filled, as the nginx image's envsubst does."""
        self.prefix.mkdir(parents=True, exist_ok=True)
        values = {
            "NGINX_LISTEN": f"127.0.0.1:{self.port}",
            "API_UPSTREAM": f"127.0.0.1:{self.upstream_port}",
            "NGINX_RUNTIME": str(self.prefix),
            "NGINX_USER": pwd.getpwuid(os.getuid()).pw_name,  # whoever runs the tests
            "MAX_UPLOAD_MB": "500",
            "MAX_BATCH_BODY_MB": "5001",
        }
        text = PLACEHOLDER.sub(lambda match: values[match.group(1)], NGINX_CONF.read_text())
        config = self.prefix / "nginx.conf"
        config.write_text(text)
        return config

    def command(self, config):
        return [nginx_binary(), "-p", str(self.prefix), "-c", str(config), "-e", "stderr"]

    def start(self):
        config = self.render()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [*self.command(config), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL,  # the access log
                stderr=log,
                start_new_session=True,
            )
        wait_until(self._answers, 10, message="nginx answering /health")
        return self

    def _answers(self):
        if self.process.poll() is not None:
            raise RuntimeError(f"nginx exited:\n{self.log_path.read_text()}")
        with contextlib.suppress(OSError):
            return health_status(self.port) == 200
        return False

    def stop(self):
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, 9)
        self.process.wait(5)


def attack(port, media_path, count):
    """``count`` paused players, then ``count`` half-sent requests; their sockets."""
    players = paused_players(port, media_path, count)
    time.sleep(0.5)
    settle(port)
    return players, half_sent_requests(port, count)
