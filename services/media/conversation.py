"""Talking to a sandbox child (services.media.sandbox): the request in, then progress lines
and the answer out, under a wall-clock deadline and a cancel check.

The child writes ``{"progress": [stage, done]}`` lines while it works and its answer last,
one JSON line without a newline. The parent reads with a timeout (selectors), so it can
stop waiting at the deadline, or as soon as the caller no longer wants the work.
"""

import contextlib
import json
import os
import selectors
import subprocess
import time

POLL_SECONDS = 0.5  # how often the parent asks whether the work is still wanted
EXIT_SECONDS = 5  # for a child that has answered to exit before it is killed
MAX_OUTPUT = 1024 * 1024  # the answer is a few hundred bytes; progress lines are read as they come


class SandboxFailed(Exception):
    """The child ran out of memory or time, or died: the message says which."""


class SandboxCancelled(Exception):
    """The caller no longer wanted the work (its lease lost, its worker stopping): killed."""


def converse(child, request, seconds, on_progress=None, cancelled=None):
    """Send the request, relay the progress lines until the child closes its stdout, and
    return its last line (the answer). The request is small: it fits in the pipe at once."""
    try:
        child.stdin.write(json.dumps(request).encode())
        child.stdin.close()
    except BrokenPipeError:  # it died at once: its exit status says how
        pass
    deadline, lines = time.monotonic() + seconds, _Lines()
    with selectors.DefaultSelector() as selector:
        selector.register(child.stdout, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SandboxFailed(f"the media step took longer than {seconds} s and was stopped")
            if cancelled is not None and cancelled():
                raise SandboxCancelled("the media step was cancelled")
            if not selector.select(min(remaining, POLL_SECONDS)):
                continue
            chunk = os.read(child.stdout.fileno(), 65536)
            if not chunk:
                return lines.rest
            for stage, done in lines.feed(chunk):
                if on_progress is not None:
                    on_progress(stage, done)


def let_exit(child):
    """The answer is in: give the child a moment to exit by itself (its status then says
    how it ended, not our kill)."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(EXIT_SECONDS)


class _Lines:
    """The child's stdout, split into progress lines (relayed) and the answer (kept)."""

    def __init__(self):
        self.rest = b""

    def feed(self, chunk):
        self.rest += chunk
        if len(self.rest) > MAX_OUTPUT:
            raise SandboxFailed("the media step wrote more than it may")
        *complete, self.rest = self.rest.split(b"\n")
        for line in complete:
            try:
                stage, done = json.loads(line)["progress"]
                yield str(stage), float(done)
            except (ValueError, KeyError, TypeError):
                continue  # not a progress line: nothing else comes before the answer
