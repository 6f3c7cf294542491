"""Closing a connection after its response without waiting on the client (http_worker).

gthread closes a finished connection with gunicorn's ``util.close_graceful``
on the worker's poller thread: it half-closes, then blocks in recv() until
the client closes too, for up to 2 s (RFC 9112 section 9.6: closing with
unread request bytes sends a reset that can cut the response short). Every
client that read its answer and kept its socket open held the whole process
that long: no connection accepted, no request read, no parked stream resumed
(measured: /health 7 ms idle, 2 s behind clients that do not close; under 50
saturating streams, whose clients close late, an API connection waited 100 to
300 ms in the listen backlog with the worker accepting). Here the half-close
is the same, and the drain waits in the poller.
"""

import selectors
import socket
import time

from gunicorn import util
from gunicorn.workers.gthread import TConn

LINGER_SECONDS = 2.0  # gunicorn's close_graceful
MAX_DRAIN = 65536  # bytes read from a closing client at most (gunicorn's)
MAX_LINGERING = 1000  # per process: past that, the oldest closes at once


class Lingering:
    """Half-closed sockets, each closed when its client closes or its time is up."""

    def __init__(self, worker):
        self.worker = worker  # its poller is made when the process starts
        self.sockets = {}  # socket -> [deadline, bytes drained]

    def close(self, sock):
        if len(self.sockets) >= MAX_LINGERING:
            self._close(next(iter(self.sockets)))
        try:
            sock.shutdown(socket.SHUT_WR)  # the client sees the end of the response now
            sock.setblocking(False)
            self.worker.poller.register(sock, selectors.EVENT_READ, self._on_readable)
        except (OSError, ValueError):  # gone already, or closed
            util.close(sock)
            return
        self.sockets[sock] = [time.monotonic() + LINGER_SECONDS, 0]

    def _on_readable(self, sock):
        try:
            data = sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        self.sockets[sock][1] += len(data)
        if not data or self.sockets[sock][1] >= MAX_DRAIN:
            self._close(sock)

    def sweep(self):
        now = time.monotonic()
        for sock in [sock for sock, (deadline, _) in self.sockets.items() if deadline <= now]:
            self._close(sock)

    def _close(self, sock):
        del self.sockets[sock]
        self.worker.poller.unregister(sock)
        util.close(sock)


class ClosingConn(TConn):
    """gthread's connection, whose graceful close lingers in the poller (gthread calls it
    there, in finish_request) instead of blocking it."""

    def __init__(self, lingering, *args):
        super().__init__(*args)
        self.lingering = lingering

    def close(self, graceful=False):
        if graceful:
            self.lingering.close(self.sock)
        else:
            super().close()
