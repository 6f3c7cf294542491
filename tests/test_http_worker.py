"""The guarded worker's pieces (web/http_worker/): when a request may go to a thread, parked
output, closing without waiting on the client.

The worker as a whole is tested by tests/test_hostile_connections.py.
"""

import selectors
import socket
import time

import pytest

from web.http_worker.arriving import SMALL_BODY, ArrivingRequest
from web.http_worker.closing import Lingering
from web.http_worker.output import NonBlockingOutput, socket_timeout

HEAD = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"


def arrive(*pieces):
    """Whether the request is complete after each piece."""
    request = ArrivingRequest()
    return [request.add(piece) for piece in pieces]


class TestArrivingRequest:
    def test_a_head_is_complete_at_its_blank_line_even_split_inside_it(self):
        assert arrive(HEAD[:-3], HEAD[-3:-1], HEAD[-1:]) == [False, False, True]

    def test_a_small_body_is_waited_for(self):
        head = b"POST /auth/login HTTP/1.1\r\nContent-Length: 10\r\n\r\n"
        assert arrive(head, b"12345", b"67890") == [False, False, True]

    def test_a_large_body_is_left_to_the_thread(self):
        head = f"POST /video/upload HTTP/1.1\r\nContent-Length: {SMALL_BODY + 1}\r\n\r\n"
        assert arrive(head.encode()) == [True]

    def test_a_client_expecting_100_continue_is_not_waited_for(self):
        head = b"POST /a HTTP/1.1\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n"
        assert arrive(head) == [True]

    @pytest.mark.parametrize("last", [b"0\r\n\r\n", b"0;ext=1\r\n\r\n", b"000\r\n\r\n"])
    def test_a_chunked_body_is_waited_for_until_its_last_chunk(self, last):
        head = b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        assert arrive(head, b"5\r\nhello\r\n", last) == [False, False, True]

    def test_an_empty_chunked_body(self):
        head = b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        assert arrive(head + b"0\r\n\r\n") == [True]

    def test_a_head_too_long_for_the_parser_goes_to_it(self):
        assert arrive(b"GET / HTTP/1.1\r\nX: " + b"a" * SMALL_BODY) == [True]


class TestNonBlockingOutput:
    def test_a_client_that_stops_reading_leaves_the_bytes_pending_in_order(self):
        server, client = socket.socketpair()
        try:
            server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, socket_timeout(0.01))
            output = NonBlockingOutput(server)
            block = b"x" * (1 << 20)
            output.sendall(block)  # far more than the socket buffers hold: returns anyway
            assert output.pending
            output.sendall(b"end")
            assert output.pending.endswith(b"end")
            received = b""
            while not output.flush():
                received += client.recv(1 << 20)
            client.settimeout(5)
            while len(received) < len(block) + 3:
                received += client.recv(1 << 20)
            assert received == block + b"end"
        finally:
            server.close()
            client.close()


class FakeWorker:
    """What Lingering uses of the worker: its poller (a real one)."""

    def __init__(self):
        self.poller = selectors.DefaultSelector()

    def dispatch(self):
        for key, _ in self.poller.select(timeout=5):
            key.data(key.fileobj)


@pytest.fixture
def tcp_pair():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname(), timeout=5)
        server, _ = listener.accept()
    yield server, client
    server.close()
    client.close()


class TestLingering:
    def test_the_response_ends_at_once_and_the_socket_waits_for_the_client(self, tcp_pair):
        server, client = tcp_pair
        worker = FakeWorker()
        lingering = Lingering(worker)
        lingering.close(server)  # gunicorn's close_graceful would block here for 2 s
        assert client.recv(10) == b""  # the half-close: the client sees the end
        assert server.fileno() != -1 and server in lingering.sockets
        client.sendall(b"late request bytes")  # read and dropped, no reset
        worker.dispatch()
        assert server.fileno() != -1
        client.close()
        worker.dispatch()
        assert server.fileno() == -1 and not lingering.sockets

    def test_a_client_that_never_closes_is_closed_at_its_deadline(self, tcp_pair):
        server, _ = tcp_pair
        lingering = Lingering(FakeWorker())
        lingering.close(server)
        lingering.sweep()
        assert server.fileno() != -1  # not yet
        lingering.sockets[server][0] = time.monotonic() - 1  # its deadline passed
        lingering.sweep()
        assert server.fileno() == -1 and not lingering.sockets
