"""Helpers for tests/faults/: raw HTTP over sockets, multipart bodies, /proc, GridFS checks.

Fault tests need what a polite client library hides: a request whose body
stops halfway, a response read a little and then dropped with a TCP reset,
a body streamed from disk. Everything here speaks HTTP/1.1 over a plain socket.
"""

import contextlib
import http.client
import json
import math
import os
import socket
import struct
import time
import uuid
from pathlib import Path

from pymongo import MongoClient

from devtools.embedded_mongo import EmbeddedMongo, free_port, server_command
from devtools.gunicorn_process import GunicornProcess, gunicorn_command
from tests.support.live_server import HttpClient

MIB = 1024 * 1024


def wait_until(predicate, timeout, interval=0.1, message="condition"):
    """Poll ``predicate`` until it returns a truthy value; that value, or AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{message}: not within {timeout}s (last: {value!r})")
        time.sleep(interval)


# Multipart upload bodies


class MultipartBody:
    """``head`` + file bytes + ``tail``: a multipart upload with ``title`` and ``file``."""

    def __init__(self, file_size, title="Fault test", filename="clip.mp4"):
        self.boundary = uuid.uuid4().hex
        self.head = (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n'
            f"{title}\r\n"
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: video/mp4\r\n\r\n'
        ).encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()
        self.length = len(self.head) + file_size + len(self.tail)

    @property
    def content_type(self):
        return f"multipart/form-data; boundary={self.boundary}"


def upload_file(port, token, path, timeout=120):
    """POST ``path`` to /video/upload, streamed from disk; (status, headers, body bytes)."""
    body = MultipartBody(Path(path).stat().st_size, filename=Path(path).name)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.putrequest("POST", "/video/upload")
        connection.putheader("Authorization", f"Bearer {token}")
        connection.putheader("Content-Type", body.content_type)
        connection.putheader("Content-Length", str(body.length))
        connection.endheaders()
        connection.send(body.head)
        with open(path, "rb") as source:
            while block := source.read(MIB):
                connection.send(block)
        connection.send(body.tail)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


# Raw HTTP over a socket, for clients that hang up


class RawExchange:
    """One request on its own socket; the response read by hand, the socket reset at will."""

    def __init__(self, port, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.status = None
        self.headers = {}
        self._buffer = b""

    def send_head(self, method, path, headers, content_length=None):
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if content_length is not None:
            lines.append(f"Content-Length: {content_length}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def send(self, data):
        self.sock.sendall(data)

    def read_head(self):
        """Status and headers (lower-cased names); what came after them stays buffered."""
        while b"\r\n\r\n" not in self._buffer:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError(f"closed before the headers: {self._buffer[:200]!r}")
            self._buffer += data
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        for line in lines:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        return self

    @property
    def content_length(self):
        return int(self.headers["content-length"])

    def read(self, count):
        """Up to ``count`` body bytes (fewer only at the end of the stream)."""
        parts, have = [], 0
        if self._buffer:
            parts.append(self._buffer[:count])
            have = len(parts[0])
            self._buffer = self._buffer[count:]
        while have < count:
            data = self.sock.recv(min(count - have, 1 << 20))
            if not data:
                break
            parts.append(data)
            have += len(data)
        return b"".join(parts)

    def read_to_end(self):
        """The rest of the body until the server closes (or resets) the connection."""
        parts = [self._buffer]
        self._buffer = b""
        with contextlib.suppress(ConnectionResetError):
            while data := self.sock.recv(1 << 20):
                parts.append(data)
        return b"".join(parts)

    def json(self):
        return json.loads(self.read(self.content_length))

    def reset(self):
        """Hang up abruptly: SO_LINGER 0 makes close() send a TCP RST, as a crashed client."""
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self):
        self.sock.close()


# Processes


def worker_pids(master_pid):
    """gunicorn's workers: the master's children."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return [int(child) for child in children]


def thread_count(pid):
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


# GridFS consistency


def orphan_chunk_file_ids(database):
    """files_id values in fs.chunks with no fs.files document."""
    with_chunks = set(database.fs.chunks.distinct("files_id"))
    files = {document["_id"] for document in database.fs.files.find({}, {"_id": 1})}
    return with_chunks - files


def incomplete_files(database):
    """fs.files documents whose chunks are not exactly 0..n-1 of the right sizes."""
    broken = []
    for document in database.fs.files.find({}, {"length": 1, "chunkSize": 1}):
        expected = math.ceil(document["length"] / document["chunkSize"])
        numbers = sorted(
            chunk["n"] for chunk in database.fs.chunks.find({"files_id": document["_id"]}, {"n": 1})
        )
        if numbers != list(range(expected)):
            broken.append((document["_id"], document["length"], len(numbers), expected))
    return broken


def video_file_ids(video):
    return [
        video.get(field)
        for field in ("source_file_id", "media_file_id", "thumbnail_file_id")
        if video.get(field) is not None
    ]


# The servers of the fault tests, and what the tests check with them

DATABASE = "faults"
STREAM_MB = 64  # far more than the socket buffers and the read-ahead hold
UPLOAD_MB = 200  # its copy into GridFS takes a couple of seconds: time to kill the database
SOON = 10  # seconds: "within a few seconds", with room for a loaded 2-core machine


def tool_available():
    try:
        server_command()
    except RuntimeError:
        return False
    return True


class Servers:
    """The database, gunicorn in front of it, and a direct client for checking the data."""

    def __init__(self, base):
        self.server_tmp = base / "server-tmp"
        self.server_tmp.mkdir()
        self.database = EmbeddedMongo(base / "data", log_path=base / "secantusd.log")
        env = {
            **os.environ,
            "APP_ENV": "development",
            "MONGODB_URI": self.database.uri(DATABASE),
            "MONGODB_TIMEOUT_MS": "1000",
            "RATELIMIT_ENABLED": "false",
            "RATELIMIT_STORAGE_URI": "memory://",
            "BCRYPT_ROUNDS": "4",
            "LOG_LEVEL": "INFO",
            "GUNICORN_THREADS": "2",
            "TMPDIR": str(self.server_tmp),
        }
        port = free_port()
        self.gunicorn = GunicornProcess(
            env, base / "gunicorn.log", command=gunicorn_command(port, workers=1), port=port
        )
        self.mongo = MongoClient(self.database.uri(), serverSelectionTimeoutMS=5000)
        self.db = self.mongo[DATABASE]
        self.http = HttpClient(self.gunicorn.base_url, timeout=30)

    def start(self):
        self.database.start()
        self.gunicorn.start().wait_until_healthy()
        self.creator = self.http.signup_and_login("creator")
        return self

    @property
    def port(self):
        return self.gunicorn.port

    def worker_pid(self):
        (pid,) = worker_pids(self.gunicorn.process.pid)
        return pid

    def database_up(self):
        """Start the database if a test left it dead; wait until gunicorn sees it."""
        if self.database.process.poll() is not None:
            self.database.start()
        wait_until(self.healthy, SOON, message="/health 200")

    def healthy(self):
        with contextlib.suppress(OSError):
            return self.gunicorn.health_status() == 200
        return False

    def temp_files(self):
        return sorted(path.name for path in self.server_tmp.iterdir())

    def counts(self):
        return {
            "fs.files": self.db.fs.files.count_documents({}),
            "fs.chunks": self.db.fs.chunks.count_documents({}),
            "videos": self.db.videos.count_documents({}),
        }

    def stop(self):
        self.mongo.close()
        self.gunicorn.stop()
        self.database.stop()


def media_path(video_id, token):
    return f"/video/{video_id}/media?token={token}"


def open_stream(servers, path, headers=None, timeout=30):
    exchange = RawExchange(servers.port, timeout=timeout)
    exchange.send_head("GET", path, headers or {})
    return exchange.read_head()


def request_within(servers, method, path, headers=None, limit=SOON):
    """A request whose client gives up after ``limit`` seconds of silence.

    No clock is asserted here (speed belongs to bench/): a request that hangs
    fails by the client's socket timeout, which raises.
    """
    client = HttpClient(servers.gunicorn.base_url, timeout=limit)
    return client.request(method, path, headers=headers)


def settled_thread_count(pid):
    """The process's thread count once it holds still for half a second."""
    counts = [thread_count(pid)]

    def settled():
        time.sleep(0.5)
        counts.append(thread_count(pid))
        return counts[-1] == counts[-2]

    wait_until(settled, SOON, interval=0, message=f"thread count of {pid} settling")
    return counts[-1]


def assert_prefix_of(received, stored):
    """``received`` is ``stored``'s first bytes (no wrong byte), without a 64 MB diff on failure."""
    assert len(received) <= len(stored), f"{len(received)} bytes of a {len(stored)}-byte file"
    if received != stored[: len(received)]:
        first = next(i for i, (a, b) in enumerate(zip(received, stored, strict=False)) if a != b)
        raise AssertionError(f"wrong byte at offset {first} of {len(received)} received")


def assert_database_unavailable(reply, retry_after=True):
    assert reply.status == 503, (reply.status, reply.body[:300])
    assert reply.headers["Content-Type"].startswith("application/json")
    body = reply.json()
    assert body["code"] == "database_unavailable" and body["error"], body
    if retry_after:
        assert int(reply.headers["Retry-After"]) > 0


# a. A client that hangs up halfway through its upload
