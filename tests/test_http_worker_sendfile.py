"""File bodies (web/file_body.py) sent by the guarded worker with sendfile (web/http_worker/).

A real gunicorn with the production gunicorn.conf.py serves
tests/support/sendfile_app.py, which counts the ``read()`` calls its bodies
serve (none when the worker used sendfile), the bodies closed and its open
descriptors. A second server with
``--no-sendfile`` iterates the same bodies: the control that shows the
counter would see reads, and that the fallback is byte-exact too.
"""

import contextlib
import http.client
import json
import os
import random
import shutil
import socket
import struct
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.faults import wait_until
from tests.support.hostile_connections import close_all, health_status, settle, still_open
from tests.support.sendfile_app import SendfileServer
from web.http_worker.file_send import HAND_OVER_BYTES

SIZE = 12 << 20  # well past what the kernel's socket buffers hold for one paused reader
DATA = random.Random(18).randbytes(SIZE)
THREADS = 4
HEADS = 4  # more files than a socket still closing from the last exchange could hide
READER_BUFFER = 4096  # a paused player's receive buffer: the server's sends stall at once

pytestmark = pytest.mark.slow


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


def test_ranges_are_byte_exact_and_sent_with_sendfile(server):
    before = stats(server)
    assert_ranges_exact(server.port)
    after = wait_until(lambda: all_closed(server), 10, message="every body closed")
    assert after["opened"] - before["opened"] == len(RANGES)
    assert after["reads"] == before["reads"], "the worker read the file instead of sendfile"


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


def closed_at_nice_since(before, after):
    """{nice value: bodies closed by a thread of that nice} between two stats."""
    was, now = before["closed_at_nice"], after["closed_at_nice"]
    return {
        nice: count - was.get(nice, 0) for nice, count in now.items() if count > was.get(nice, 0)
    }


def test_file_bodies_are_sent_by_threads_that_yield_the_cpu_to_requests(server):
    """The thread that sends a body closes it: every long one (over HAND_OVER_BYTES) had a
    higher nice value (a lower CPU priority) than the threads answering requests, which all
    kept the process's; short ones (a player's range) go out from the request thread."""
    before = wait_until(lambda: all_closed(server), 10, message="a quiet server")
    assert_ranges_exact(server.port)
    after = wait_until(lambda: all_closed(server), 10, message="every body closed")
    closers = closed_at_nice_since(before, after)
    requests = {stats(server)["nice"] for _ in range(3 * THREADS)}  # every thread, likely
    assert requests == {os.getpriority(os.PRIO_PROCESS, 0)}  # gunicorn inherits ours
    long = sum(length > HAND_OVER_BYTES for _, length in RANGES)
    lowered = {nice: count for nice, count in closers.items() if int(nice) > max(requests)}
    assert sum(lowered.values()) == long and sum(closers.values()) == len(RANGES), closers


def test_without_sendfile_request_threads_send_the_bodies(iterating_server):
    """The control: an iterated body is sent, and closed, by a request thread."""
    before = wait_until(lambda: all_closed(iterating_server), 10, message="a quiet server")
    assert_ranges_exact(iterating_server.port)
    after = wait_until(lambda: all_closed(iterating_server), 10, message="every body closed")
    nice = str(stats(iterating_server)["nice"])
    assert closed_at_nice_since(before, after) == {nice: len(RANGES)}


def test_a_client_that_keeps_its_socket_open_after_its_answer_holds_nothing(server):
    """gthread's close waited in the poller for the client to close, for up to 2 s, and no
    other connection was served meanwhile: /health came after the held socket was closed
    (a byte sent on it then gets a reset). Now the held socket lingers in the poller."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as held:
        held.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := held.recv(4096):  # the whole answer, then the server's half-close
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 ")
        assert health_status(server.port) == 200
        held.sendall(b"x")  # read by the server still: no reset
        assert health_status(server.port) == 200  # a round trip: a reset would be here by now
        assert held.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0


@pytest.mark.parametrize("path", ["/file", "/raw-file"])
def test_a_head_sends_the_headers_only_and_closes_the_file(server, path):
    """/raw-file hands the worker a file wrapper for the HEAD: the worker sends no byte of it."""
    before = wait_until(lambda: all_closed(server), 10, message="a quiet server")
    request = (
        f"HEAD {path}?start=100&length=2000000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    for _ in range(HEADS):
        head, _, body = raw_exchange(server.port, request.encode()).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 206 ")
        assert b"\r\nContent-Length: 2000000" in head
        assert body == b""
    after = wait_until(lambda: all_closed(server), 10, message="the HEADs' bodies closed")
    assert after["opened"] - before["opened"] == HEADS
    wait_until(lambda: fds_back_to(server, before), 10, message="the files closed")


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


def test_a_file_shorter_than_its_content_length_ends_the_connection(server):
    """A cache file cut short under the worker: the bytes it has, then the connection closes
    (the client sees a short body, never other bytes); the thread and the file are freed."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", f"/raw-file?start={SIZE - 1000}&length=5000")
        response = connection.getresponse()
        assert response.getheader("Content-Length") == "5000"
        with pytest.raises(http.client.IncompleteRead) as cut:
            response.read()
        assert cut.value.partial == DATA[SIZE - 1000 :]
    finally:
        connection.close()
    wait_until(lambda: all_closed(server), 10, message="the short body closed")
    assert health_status(server.port) == 200


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
