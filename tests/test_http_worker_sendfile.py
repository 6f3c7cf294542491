"""File bodies (web/file_body.py) sent by the guarded worker with sendfile (web/http_worker/).

The FileRange and ``file_response`` alone first, under werkzeug's test
client (which iterates the body); then a real gunicorn with the production
gunicorn.conf.py serving tests/support/sendfile_app.py, which counts the
``read()`` calls its bodies serve (none when the worker used sendfile),
the bodies closed and its open descriptors. A second server with
``--no-sendfile`` iterates the same bodies: the control that shows the
counter would see reads, and that the fallback is byte-exact too.
"""

import contextlib
import http.client
import io
import json
import logging
import random
import shutil
import socket
import struct
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask, request

from tests.support.faults import wait_until
from tests.support.hostile_connections import close_all, health_status, settle, still_open
from tests.support.sendfile_app import SendfileServer
from web.file_body import FileRange, file_response

SIZE = 12 << 20  # well past what the kernel's socket buffers hold for one paused reader
DATA = random.Random(18).randbytes(SIZE)
THREADS = 4
HEADS = 4  # more files than a socket still closing from the last exchange could hide
READER_BUFFER = 4096  # a paused player's receive buffer: the server's sends stall at once


# The pieces, without a server


class Closable(io.BytesIO):
    def fileno(self):
        return 42


def test_a_file_range_reads_nothing_past_its_end():
    body = FileRange(io.BytesIO(DATA[:1000]), 100, 50)
    assert body.read(20) == DATA[100:120]
    assert body.read(1000) == DATA[120:150]
    assert body.read(10) == b""
    assert FileRange(io.BytesIO(DATA[:1000]), 990, 10).read() == DATA[990:1000]


def test_closing_a_file_range_closes_the_file_and_runs_each_hook_once():
    file, calls = Closable(DATA[:10]), []
    body = FileRange(file, 0, 10)
    body.on_close += [lambda: calls.append("a"), lambda: 1 / 0, lambda: calls.append("c")]
    assert body.fileno() == 42
    with pytest.raises(ZeroDivisionError):  # a failing hook is reported, after the others ran
        body.close()
    body.close()
    assert file.closed and calls == ["a", "c"]


@pytest.fixture
def file_app(tmp_path):
    """A Flask app answering a range of a file with file_response, and its closed-hook log."""
    path = tmp_path / "media.bin"
    path.write_bytes(DATA[:100_000])
    app, closed = Flask(__name__), []

    @app.route("/range", methods=["GET", "HEAD"])
    def answer():
        start, length = int(request.args["start"]), int(request.args["length"])
        file = open(path, "rb")  # noqa: SIM115 - the response closes it
        return file_response(request.environ, file, start, length, 206, {}, "video/mp4")

    @app.after_request
    def log_on_close(response):  # as web/logs.py registers the access line
        method = request.method
        response.call_on_close(lambda: closed.append(method))
        return response

    return app, closed


@pytest.mark.parametrize(("start", "length"), [(0, 1), (99_999, 1), (1234, 50_000), (0, 100_000)])
def test_file_response_answers_the_range(file_app, start, length):
    app, closed = file_app
    response = app.test_client().get(f"/range?start={start}&length={length}")
    assert response.status_code == 206
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Content-Length"] == str(length)
    assert response.get_data() == DATA[start : start + length]
    response.close()
    assert closed == ["GET"]


def test_file_response_to_a_head_has_no_body_and_still_runs_its_hooks(file_app):
    app, closed = file_app
    response = app.test_client().head("/range?start=10&length=500")
    assert response.headers["Content-Length"] == "500"
    assert response.get_data() == b""
    response.close()
    assert closed == ["HEAD"]


def test_the_apps_own_hooks_run_on_a_file_response(app, tmp_path):
    """create_app's after_request hooks take a file response as it is; its access line
    (web/logs.py, a call_on_close hook) is written when the body is closed."""
    path = tmp_path / "media.bin"
    path.write_bytes(DATA[:5000])

    def answer():
        file = open(path, "rb")  # noqa: SIM115 - the response closes it
        return file_response(request.environ, file, 100, 200, 206, {}, "video/mp4")

    app.add_url_rule("/test-file", view_func=answer)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger("access").addHandler(handler)
    try:
        response = app.test_client().get("/test-file", headers={"X-Request-ID": "file-1"})
        assert response.get_data() == DATA[100:300]
        assert response.headers["X-Request-ID"] == "file-1"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert stream.getvalue() == ""  # not before the body is done
        response.close()
    finally:
        logging.getLogger("access").removeHandler(handler)
    assert stream.getvalue() == "GET /test-file 206\n"


# Under gunicorn and the guarded worker

served = pytest.mark.slow


@pytest.fixture(scope="module")
def media_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("sendfile") / "media.bin"
    path.write_bytes(DATA)
    return path


def start_server(tmp_path_factory, media_path, *extra_args, threads=THREADS):
    base = tmp_path_factory.mktemp("gunicorn")
    server = SendfileServer(base, media_path, threads, extra_args)
    try:
        server.start().wait_until_healthy()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory, media_path):
    yield from start_server(tmp_path_factory, media_path)


@pytest.fixture(scope="module")
def production_threads_server(tmp_path_factory, media_path):
    """gunicorn.conf.py's 32 threads: how fast 200 readers are taken in depends on them."""
    yield from start_server(tmp_path_factory, media_path, threads=32)


@pytest.fixture(scope="module")
def iterating_server(tmp_path_factory, media_path):
    yield from start_server(tmp_path_factory, media_path, "--no-sendfile")


def fetch(port, start, length, method="GET"):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, f"/file?start={start}&length={length}")
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def stats(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", "/stats")
        return json.loads(connection.getresponse().read())
    finally:
        connection.close()


def all_closed(server):
    """The stats once every body opened has been closed (their hooks ran)."""
    current = stats(server)
    return current if current["closed"] == current["opened"] else None


RANGES = [(0, 1), (SIZE - 1, 1), (5_000_001, 3_000_000), (0, SIZE)]


def assert_ranges_exact(port):
    for start, length in RANGES:
        status, headers, body = fetch(port, start, length)
        assert status == 206
        assert headers["Content-Length"] == str(length)
        assert headers["Content-Range"] == f"bytes {start}-{start + length - 1}/{SIZE}"
        assert body == DATA[start : start + length], (start, length)


@served
def test_ranges_are_byte_exact_and_sent_with_sendfile(server):
    before = stats(server)
    assert_ranges_exact(server.port)
    after = wait_until(lambda: all_closed(server), 10, message="every body closed")
    assert after["opened"] - before["opened"] == len(RANGES)
    assert after["reads"] == before["reads"], "the worker read the file instead of sendfile"


@served
def test_without_sendfile_the_worker_iterates_the_same_bytes(iterating_server):
    """The control: the read counter sees an iterated body, and the fallback is exact."""
    before = stats(iterating_server)
    assert_ranges_exact(iterating_server.port)
    after = wait_until(lambda: all_closed(iterating_server), 10, message="every body closed")
    assert after["reads"] - before["reads"] >= SIZE // (256 * 1024)


def raw_exchange(port, request):
    """Every byte the server sends for ``request`` until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(1 << 16):
            received += chunk
    return received


def fds_back_to(server, baseline):
    """Whether the worker's open descriptors are down to ``baseline`` (a socket of the
    previous exchange may still be closing when a count is taken)."""
    return stats(server)["fds"] <= baseline["fds"]


@served
@pytest.mark.parametrize("path", ["/file", "/raw-file"])
def test_a_head_sends_the_headers_only_and_closes_the_file(server, path):
    """/raw-file hands the worker a file wrapper for the HEAD: the worker sends no byte of it."""
    before = wait_until(lambda: all_closed(server), 10, message="a quiet server")
    request = f"HEAD {path}?start=100&length=2000000 HTTP/1.1\r\nHost: x\r\n\r\n"
    for _ in range(HEADS):
        head, _, body = raw_exchange(server.port, request.encode()).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 206 ")
        assert b"\r\nContent-Length: 2000000" in head
        assert body == b""
    after = wait_until(lambda: all_closed(server), 10, message="the HEADs' bodies closed")
    assert after["opened"] - before["opened"] == HEADS
    wait_until(lambda: fds_back_to(server, before), 10, message="the files closed")


@served
def test_many_concurrent_ranged_requests_are_each_exact(server):
    picker = random.Random(7)
    ranges = [
        (start, picker.randrange(1, min(SIZE - start, 2_000_000) + 1))
        for start in (picker.randrange(SIZE) for _ in range(120))
    ]
    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(lambda r: fetch(server.port, *r), ranges))
    for (start, length), (status, _, body) in zip(ranges, answers, strict=True):
        assert status == 206 and body == DATA[start : start + length], (start, length)
    wait_until(lambda: all_closed(server), 10, message="every body closed")


def paused_readers(port, count, start=0, length=SIZE):
    """Clients that ask for a range and read nothing, with a small receive buffer."""
    sockets = []
    for _ in range(count):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, READER_BUFFER)
        sock.settimeout(30)
        sock.connect(("127.0.0.1", port))
        request = f"GET /file?start={start}&length={length} HTTP/1.1\r\nHost: x\r\n\r\n"
        sock.sendall(request.encode())
        sockets.append(sock)
    return sockets


def read_response(sock):
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, response.read()


@served
def test_paused_readers_are_parked_and_resume_with_their_bytes_intact(server):
    """Twice as many paused readers as threads: /health still gets one, so they were parked.
    Then all of them read at once, more streams than threads taking turns."""
    readers = paused_readers(server.port, 2 * THREADS, start=1000, length=SIZE - 2000)
    try:
        assert health_status(server.port) == 200
        assert still_open(readers) == len(readers)
        for sock in readers:
            sock.setblocking(True)
        with ThreadPoolExecutor(len(readers)) as pool:
            answers = list(pool.map(read_response, readers))
        intact = [answer == (206, DATA[1000 : SIZE - 1000]) for answer in answers]
        assert intact == [True] * len(readers)
    finally:
        close_all(readers)
    wait_until(lambda: all_closed(server), 10, message="every body closed")


@served
def test_a_client_that_hangs_up_mid_body_has_its_file_closed(server):
    before = wait_until(lambda: all_closed(server), 10, message="a quiet server")
    readers = paused_readers(server.port, 6)
    for sock in readers:
        sock.recv(READER_BUFFER)  # the headers and a few bytes: the body is under way
    wait_until(lambda: stats(server)["opened"] - before["opened"] == 6, 10, message="opened")
    for sock in readers:  # a reset, as a player's process dying sends
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    wait_until(lambda: all_closed(server), 10, message="the abandoned bodies closed")
    wait_until(lambda: fds_back_to(server, before), 10, message="the files closed")


@served
def test_health_answers_under_200_paused_sendfile_readers(production_threads_server):
    """As tests/test_hostile_connections.py's paused players, on sendfile bodies."""
    server = production_threads_server
    readers = paused_readers(server.port, 200, length=4_000_000)
    try:
        settle(server.port)  # the worker takes them in a thread's worth at a time
        statuses = [health_status(server.port) for _ in range(3)]
        assert statuses == [200] * 3
        assert still_open(readers) == 200, "the paused readers were cut off"
        assert stats(server)["opened"] == 200
    finally:
        for sock in readers:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        close_all(readers)
    wait_until(lambda: all_closed(server), 30, message="the abandoned bodies closed")
