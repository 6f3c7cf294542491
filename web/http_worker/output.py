"""Writing a response without waiting on a client that does not read (http_worker)."""

import struct
from datetime import datetime

PARKED = object()  # a thread's answer: this response waits for the client to read
YIELDED = object()  # a thread's answer: this response goes on after the queued ones


def socket_timeout(seconds):
    """A struct timeval for SO_RCVTIMEO / SO_SNDTIMEO."""
    whole = int(seconds)
    return struct.pack("ll", whole, int((seconds - whole) * 1_000_000))


class NonBlockingOutput:
    """The socket a response writes to: a send that stalls keeps its bytes for later."""

    def __init__(self, sock):
        self.sock = sock
        self.pending = b""

    def sendall(self, data):
        if self.pending:  # stalled already: the order of the bytes is kept
            self.pending += bytes(data)
            return
        view = memoryview(data)
        while view:
            try:
                view = view[self.sock.send(view) :]
            except BlockingIOError:  # SO_SNDTIMEO passed with no room in the socket
                self.pending = bytes(view)
                return

    def flush(self):
        """Send what was kept; whether all of it went."""
        data, self.pending = self.pending, b""
        if data:
            self.sendall(data)
        return not self.pending

    def __getattr__(self, name):
        return getattr(self.sock, name)


class Stream:
    """A response being sent: what the thread that resumes it needs.

    ``file`` (a file_send.FileSend) when the body goes out with sendfile.
    """

    def __init__(self, req, resp, environ, respiter, output, file=None):
        self.req, self.resp, self.environ = req, resp, environ
        self.respiter, self.items, self.output = respiter, iter(respiter), output
        self.file = file
        self.started = datetime.now()
        self.closing = False
