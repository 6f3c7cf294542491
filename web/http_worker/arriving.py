"""A request read by the worker's poller until a thread may take it (http_worker)."""

import re

SMALL_BODY = 64 * 1024  # read with the head: every JSON body the API accepts
HEAD_END = b"\r\n\r\n"
CONTENT_LENGTH = re.compile(rb"^content-length:[ \t]*(\d+)[ \t]*$", re.I | re.M)
CHUNKED = re.compile(rb"^transfer-encoding:.*chunked", re.I | re.M)
EXPECT_CONTINUE = re.compile(rb"^expect:[ \t]*100-continue", re.I | re.M)
LAST_CHUNK = re.compile(rb"\r\n0+[\r;]")  # after the head's CRLF: the zero-size chunk


class ArrivingRequest:
    """A request's bytes as they arrive, and whether a thread may take it from here.

    Complete: the head, and the body too when it is small (a declared length
    up to SMALL_BODY, or a chunked body up to its last chunk), so reading the
    rest never waits on the client. Each search starts where the last ended:
    a client trickling bytes costs the poller no more than one sending them.
    """

    def __init__(self):
        self.data = bytearray()
        self.body_start = None
        self.body_length = None  # bytes of body to wait for; None: wait for nothing more
        self.chunked = False

    def add(self, chunk):
        resume_at = max(len(self.data) - len(HEAD_END), 0)
        self.data += chunk
        if self.body_start is None:
            end = self.data.find(HEAD_END, resume_at)
            if end < 0:
                return len(self.data) > SMALL_BODY  # gunicorn's parser refuses such a head
            self.body_start = end + len(HEAD_END)
            self._plan_body(bytes(self.data[:end]))
            resume_at = end
        return self._body_complete(resume_at)

    def _plan_body(self, head):
        if EXPECT_CONTINUE.search(head):
            return  # the client sends its body after gunicorn's 100 Continue
        length = CONTENT_LENGTH.search(head)
        if length and int(length.group(1)) <= SMALL_BODY:
            self.body_length = int(length.group(1))
        elif not length and CHUNKED.search(head):
            self.chunked = True

    def _body_complete(self, resume_at):
        body_received = len(self.data) - self.body_start
        if self.chunked:
            start = max(resume_at, self.body_start - 2)
            return body_received > SMALL_BODY or LAST_CHUNK.search(self.data, start) is not None
        return self.body_length is None or body_received >= self.body_length
