"""A file the sandbox child reads from its parent, range by range, over a socket.

A finished resumable upload is in GridFS, not on disk. Its probe must still run in the
sandbox child (services.media.sandbox), which never touches the database; copying the file
to disk for it would be the second full copy that resumable uploads avoid. So the parent
serves byte ranges of the stored file on one end of a socketpair
(services.media.stored_probe) and the child reads them through ``RemoteFile``, a seekable
binary file that FFmpeg, through PyAV, reads as it reads a file on disk.

The protocol is the child's: a request is ``>QQ`` (start, size), the answer ``>I`` (the
length that follows, fewer bytes only at the end of the file) and the bytes. One request at
a time, so two open readers (the probe opens the file twice, once inside the other) share
the socket safely in the child's one thread; each keeps the block it last received.
"""

import io
import socket
import struct
from types import SimpleNamespace

REQUEST = struct.Struct(">QQ")
ANSWER = struct.Struct(">I")
MAX_READ = 4 * 1024 * 1024  # what one request may ask: the parent's memory per request
FIRST_WINDOW = 64 * 1024


class RemoteFile:
    """The file behind ``fd`` (the child's end of the socketpair), ``length`` bytes long:
    what probe() needs of a path (``open`` and ``stat().st_size``)."""

    def __init__(self, fd, length):
        self.connection = socket.socket(fileno=fd)
        self.length = length

    def open(self, mode="rb"):
        if mode != "rb":
            raise ValueError("a remote file is read-only")
        return _RangeReader(self.connection, self.length)

    def stat(self):
        return SimpleNamespace(st_size=self.length)

    def __str__(self):
        return "<stored upload>"  # FFmpeg's messages never name a path


class _RangeReader(io.RawIOBase):
    """Reads ahead like a kernel does: a window that doubles while reads are sequential (up
    to MAX_READ, few round trips for the packet pass) and starts small again after a seek
    (the atoms' headers: a few bytes here and there, never megabytes each)."""

    def __init__(self, connection, length):
        self.connection, self.length, self.position = connection, length, 0
        self.cached_start, self.cached = 0, b""
        self.window = FIRST_WINDOW

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.position

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.length}[whence]
        if base + offset < 0:
            raise OSError(22, "negative seek position")
        self.position = base + offset
        return self.position

    def readinto(self, buffer):
        if self.position >= self.length or len(buffer) == 0:
            return 0
        offset = self.position - self.cached_start
        if not 0 <= offset < len(self.cached):
            self._fetch()
            offset = 0
        count = min(len(buffer), len(self.cached) - offset)
        buffer[:count] = memoryview(self.cached)[offset : offset + count]  # one copy, not two
        self.position += count
        return count

    def _fetch(self):
        sequential = self.position == self.cached_start + len(self.cached)
        self.window = next_window(self.window) if sequential else FIRST_WINDOW
        size = min(self.window, self.length - self.position)
        self.connection.sendall(REQUEST.pack(self.position, size))
        (count,) = ANSWER.unpack(receive_exactly(self.connection, ANSWER.size))
        if count > size or count == 0:
            raise OSError(5, "the parent answered other than was asked")
        self.cached_start, self.cached = self.position, receive_exactly(self.connection, count)


def next_window(window):
    """The size of the read after one of ``window`` bytes that continued the last (the
    parent reads that block ahead: services.media.stored_probe)."""
    return min(window * 2, MAX_READ)


def receive_exactly(connection, size):
    """``size`` bytes received straight into one buffer (no parts joined: one copy); OSError
    when the other end closes first. Both ends of the socketpair read with it."""
    buffer = bytearray(size)
    view, received = memoryview(buffer), 0
    while received < size:
        count = connection.recv_into(view[received:], min(size - received, 1024 * 1024))
        if not count:
            raise OSError(5, "the other end closed the connection")
        received += count
    return buffer
