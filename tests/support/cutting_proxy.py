"""A TCP proxy that cuts the connection after a chosen number of bytes: a phone losing its
network mid-upload, for the resumable-upload tests (tests/tus/).

``arm(n, ...)``: the next ``n`` bytes from clients reach the server, then the connection that
carries the n-th byte is closed both ways, mid-request; then likewise for each further count
(a client that resumes by itself is cut again, with no race). Unarmed, it only forwards.
``idle()``: the server has closed every connection, so it has handled every request it got
(a cut one included: the client learns of the cut before the server does).
"""

import contextlib
import socket
import threading


class CuttingProxy:
    def __init__(self, upstream_port, host="127.0.0.1"):
        self.upstream = (host, upstream_port)
        self.listener = socket.create_server((host, 0))
        self.host, self.port = host, self.listener.getsockname()[1]
        self._budgets = []
        self._lock = threading.Lock()
        self.cuts = 0
        self._open = 0  # connections the server has not closed yet
        threading.Thread(target=self._accept, name="cutting-proxy", daemon=True).start()

    def url(self, path):
        return f"http://{self.host}:{self.port}{path}"

    def arm(self, *counts):
        with self._lock:
            self._budgets = list(counts)

    def close(self):
        self.listener.close()

    def idle(self):
        with self._lock:
            return self._open == 0

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            with self._lock:
                self._open += 1
            pair = (client, server)
            threading.Thread(target=self._forward, args=(client, server, pair), daemon=True).start()
            threading.Thread(target=self._back, args=(server, client), daemon=True).start()

    def _allowance(self, size):
        """How much of ``size`` bytes may pass, and whether the connection is then cut."""
        with self._lock:
            if not self._budgets:
                return size, False
            passed = min(size, self._budgets[0])
            self._budgets[0] -= passed
            if self._budgets[0] == 0:
                self._budgets.pop(0)
                self.cuts += 1
                return passed, True
            return passed, False

    def _forward(self, source, target, pair):
        try:
            while data := source.recv(65536):
                passed, cut = self._allowance(len(data))
                target.sendall(data[:passed])
                if cut:
                    break
        except OSError:
            pass
        client, server = pair
        _shut(client)
        # The server sees the end of the request; _back waits for it to close.
        with contextlib.suppress(OSError):
            server.shutdown(socket.SHUT_WR)

    def _back(self, source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        _shut(target)
        _shut(source)
        with self._lock:
            self._open -= 1


def _shut(connection):
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()
