"""The app on a real socket, for tests that drive real clients (ffmpeg, Chromium, gunicorn).

``LiveServer`` serves a Flask app with werkzeug's threaded HTTP/1.1 server in a
background thread; ``MediaRecorder`` keeps what every media request asked
(Range, If-Range) and what it got (status, Content-Range, Content-Length), so
a test can check how a real player used the server; ``HttpClient`` is a tiny
JSON + multipart client over http.client (no third-party HTTP library).
"""

import http.client
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import request
from werkzeug.serving import WSGIRequestHandler, make_server

MEDIA_PATH = re.compile(r"/video/[^/]+/media")


class QuietHandler(WSGIRequestHandler):
    """No access log line per request (players make many); errors still go to stderr."""

    def log_request(self, code="-", size="-"):
        pass


class LiveServer:
    """``app`` on 127.0.0.1:<free port>; ``pages`` maps extra paths to HTML (test pages)."""

    def __init__(self, app, host="127.0.0.1"):
        self.app = app
        self.pages = {}
        self.server = make_server(
            host, 0, self._dispatch, threaded=True, request_handler=QuietHandler
        )
        self.host, self.port = host, self.server.server_port
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="live-server", daemon=True
        )

    @property
    def base_url(self):
        return f"http://{self.host}:{self.port}"

    def url(self, path):
        return self.base_url + path

    def add_page(self, html):
        """Serve ``html`` at a fresh path on this origin; returns its absolute URL."""
        path = f"/__test_page__/{uuid.uuid4().hex}.html"
        self.pages[path] = html.encode()
        return self.url(path)

    def _dispatch(self, environ, start_response):
        page = self.pages.get(environ.get("PATH_INFO"))
        if page is None:
            return self.app(environ, start_response)
        start_response(
            "200 OK",
            [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page)))],
        )
        return [page]

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.thread.join(10)
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


@dataclass
class MediaRequest:
    method: str
    range: str | None
    if_range: str | None
    user_agent: str
    status: int
    content_range: str | None
    content_length: int | None

    @property
    def range_bounds(self):
        """(first, last or None) of a single ``bytes=first-[last]`` range, else None."""
        found = re.fullmatch(r"bytes=(\d+)-(\d*)", (self.range or "").strip())
        if not found:
            return None
        return int(found.group(1)), int(found.group(2)) if found.group(2) else None

    @property
    def range_start(self):
        """N of ``bytes=N-...`` (a single range), else None."""
        bounds = self.range_bounds
        return bounds[0] if bounds else None


class MediaRecorder:
    """An ``after_request`` hook on ``app`` that records every media request."""

    def __init__(self, app):
        self._lock = threading.Lock()
        self._seen = []
        app.after_request(self._record)

    def _record(self, response):
        if MEDIA_PATH.fullmatch(request.path):
            entry = MediaRequest(
                method=request.method,
                range=request.headers.get("Range"),
                if_range=request.headers.get("If-Range"),
                user_agent=request.headers.get("User-Agent", ""),
                status=response.status_code,
                content_range=response.headers.get("Content-Range"),
                content_length=response.content_length,
            )
            with self._lock:
                self._seen.append(entry)
        return response

    def mark(self):
        """A position: ``since(mark)`` is what came after it."""
        with self._lock:
            return len(self._seen)

    def since(self, mark=0):
        with self._lock:
            return list(self._seen[mark:])


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        return json.loads(self.body)


class HttpClient:
    """JSON and multipart requests to one server, a new connection each."""

    def __init__(self, base_url, timeout=30):
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout

    def connection(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def request(self, method, path, json_body=None, headers=None, body=None):
        all_headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers["Content-Type"] = "application/json"
        connection = self.connection()
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            connection.close()

    def upload(self, path, fields, filename, data, content_type, headers=None):
        boundary = uuid.uuid4().hex
        chunks = []
        for name, value in fields.items():
            chunks.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        )
        chunks.append(data)
        chunks.append(f"\r\n--{boundary}--\r\n".encode())
        all_headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        all_headers.update(headers or {})
        return self.request("POST", path, headers=all_headers, body=b"".join(chunks))

    # Accounts and videos, as the mobile app does them.

    def signup_and_login(self, role, password="correct horse battery"):
        email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
        reply = self.request(
            "POST",
            "/auth/signup",
            {"name": f"Real {role}", "email": email, "password": password, "role": role},
        )
        assert reply.status == 201, reply.body[:300]
        reply = self.request("POST", "/auth/login", {"email": email, "password": password})
        assert reply.status == 200, reply.body[:300]
        return reply.json()["token"]

    @staticmethod
    def bearer(token):
        return {"Authorization": f"Bearer {token}"}

    def wait_until_ready(self, video_id, token, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            reply = self.request("GET", f"/video/{video_id}/status", headers=self.bearer(token))
            assert reply.status == 200, reply.body[:300]
            status = reply.json()["status"]
            if status == "ready":
                return reply.json()
            assert status == "processing", reply.json()
            assert time.monotonic() < deadline, f"video {video_id} still processing"
            time.sleep(0.2)
