"""A file wrapper's body sent with the kernel's sendfile, a slice at a time (http_worker).

gunicorn's own ``Response.sendfile`` (gunicorn/http/wsgi.py) sends the whole
file in one blocking call: behind a player that stops reading it would hold
its thread for as long as the player pauses. Here the same rules (the file's
current offset, exactly Content-Length bytes, no body for a HEAD, 204, 304 or
1xx, nothing for TLS or ``--no-sendfile``) are kept, but each call sends at
most ``SLICE_BYTES`` from an offset the stream remembers, so a send that
times out (SO_SNDTIMEO) parks the stream and the next thread resumes it at
that offset; the file's own offset is never moved.
"""

import os

from gunicorn import util

from web.http_worker.output import PARKED, YIELDED

SLICE_BYTES = 4 * 1024 * 1024  # per sendfile call: fewer GIL round trips per stream (bench.cache)


HAND_OVER_BYTES = 2 * 1024 * 1024


class FileEnded(Exception):
    """The file had fewer bytes than the response's Content-Length promised."""


class FileSend:
    """Where a sendfile body is: the file's descriptor, the next offset, the bytes left."""

    def __init__(self, fd, offset, remaining):
        self.fd, self.offset, self.remaining = fd, offset, remaining

    @classmethod
    def for_body(cls, respiter, environ, resp, cfg):
        """A FileSend when ``respiter`` can go out with sendfile; None: iterate it instead."""
        wrapper = environ.get("wsgi.file_wrapper")
        if not (isinstance(wrapper, type) and isinstance(respiter, wrapper)):
            return None
        if cfg.is_ssl or not resp.can_sendfile() or resp.response_length is None:
            return None  # no Content-Length: gunicorn would frame it chunked; iterate it
        if not util.has_fileno(respiter.filelike):
            return None
        fd = respiter.filelike.fileno()
        try:
            offset = os.lseek(fd, 0, os.SEEK_CUR)
        except OSError:
            return None
        return cls(fd, offset, 0 if omits_body(resp) else resp.response_length)

    def long(self):
        """A body a sender thread takes over (senders.py); a short one (a player's range, a
        thumbnail, a segment) goes out at once from the request thread: handing it over cost
        more than sending it (bench/ranges.py: 300 KB ranges)."""
        return self.remaining > HAND_OVER_BYTES

    def send_body(self, resp, output, turn_over):
        """Headers, then the rest of the file: None once sent, else PARKED or YIELDED.

        ``turn_over()`` says when another stream is owed this thread.
        """
        resp.send_headers()
        if not output.flush():
            return PARKED
        while self.remaining:
            try:
                resp.sent += self.send(output.sock)
            except BlockingIOError:  # SO_SNDTIMEO passed: resumed from self.offset
                return PARKED
            if turn_over():
                return YIELDED
        return None

    def send(self, sock):
        """One sendfile call of up to SLICE_BYTES; the bytes sent.

        BlockingIOError when the client read nothing for the socket's send
        timeout; FileEnded when the file is shorter than promised.
        """
        sent = os.sendfile(sock.fileno(), self.fd, self.offset, min(self.remaining, SLICE_BYTES))
        if sent == 0:
            raise FileEnded(f"the file ended {self.remaining} bytes short of its Content-Length")
        self.offset += sent
        self.remaining -= sent
        return sent


def omits_body(resp):
    """RFC 9110: no body for a HEAD, a 1xx, a 204 or a 304 (gunicorn's rule)."""
    status = resp.status_code or 0
    return resp.req.method == "HEAD" or status in (204, 304) or 100 <= status < 200
