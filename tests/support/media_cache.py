"""What the media cache tests fill with: bytes served as GridFS serves them, a source that
holds a fill mid-way, a writer that runs out of disk, and an LRU clock that always moves."""

import errno
import hashlib
import os
import random
import threading
import time

from bson import ObjectId

PIECE = 255 * 1024  # GridFS's chunk size: a fill gets its bytes in pieces like these
WAIT = 30  # a safety net for waits on events; never what a test asserts


def pattern(size, seed=1):
    return random.Random(seed).randbytes(size)


class Stored:
    """A file as the route knows it: its fs.files document, sha256 and bytes."""

    def __init__(self, data, file_id=None, seed=None):
        self.data, self.seed = data, seed
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.doc = {"_id": file_id or ObjectId(), "length": len(data), "chunkSize": PIECE}

    @classmethod
    def patterned(cls, size, seed):
        """``pattern(size, seed)``: what another process can make again from two numbers."""
        return cls(pattern(size, seed), seed=seed)

    def read_range(self, file_doc, start, end):
        """The bytes start..end (inclusive), a piece at a time, as MediaChunks.read gives them."""
        assert file_doc["_id"] == self.doc["_id"]
        for offset in range(start, end + 1, PIECE):
            yield self.data[offset : min(offset + PIECE, end + 1)]


class HeldSource:
    """read_range that gives its first piece, then waits until ``release()``.

    ``entered`` counts the fills that reached it; ``wait_entered(n)`` waits for n of them.
    """

    def __init__(self, stored):
        self.stored = stored
        self.released = threading.Event()
        self.entered = 0
        self._changed = threading.Condition()

    def read_range(self, file_doc, start, end):
        pieces = self.stored.read_range(file_doc, start, end)
        yield next(pieces)
        with self._changed:
            self.entered += 1
            self._changed.notify_all()
        assert self.released.wait(WAIT)
        yield from pieces

    def wait_entered(self, count):
        with self._changed:
            assert self._changed.wait_for(lambda: self.entered >= count, WAIT)

    def release(self):
        self.released.set()


class DiskFull:
    """A writer that writes ``room`` bytes, then fails as a full disk does (ENOSPC)."""

    def __init__(self, room):
        self.room = room

    def __call__(self, fd, data):
        if len(data) > self.room:
            os.write(fd, data[: self.room])
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        os.write(fd, data)


class StepClock:
    """Wall-clock nanoseconds that move on by ten seconds at each reading: the LRU order of
    the tests never depends on the file system's timestamp granularity."""

    def __init__(self):
        self.now = time.time_ns()

    def __call__(self):
        self.now += 10 * 10**9
        return self.now
