"""Probing a file stored in GridFS in the sandbox child, with no copy of it on disk.

The parent serves the child's range requests (services.media.remote_file) from the file's
chunks on a thread of its own while the child probes. Its memory is bounded whatever the
file's size: the last RECENT_BLOCKS blocks of remote_file.MAX_READ, and one block read ahead.

Two things make the last PATCH of a large upload cheaper (bench/tus.py):
- While the child reads on, the block it will ask for next is read from the database (the
  probe's packet pass reads the file in order, in ever larger blocks up to MAX_READ): the
  database and the child work at the same time instead of in turn.
- The bytes served in file order are hashed on the way, so the file's sha256 costs only the
  parts the probe never asked for, not a second read of the whole file.
"""

import collections
import hashlib
import logging
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict

from flask import current_app

from models import tus_chunks
from services.media.limits import MediaLimits
from services.media.probe import MediaInfo
from services.media.remote_file import ANSWER, MAX_READ, REQUEST, next_window, receive_exactly
from services.media.sandbox import Budget, run

log = logging.getLogger(__name__)
RECENT_BLOCKS = 3  # the parent's memory: this many blocks of remote_file.MAX_READ at most


def probe_stored(file_id, length, config, with_sha256=False):
    """(MediaInfo, its sha256 hex or None unless ``with_sha256``) of the stored file
    ``file_id``; NotMedia or SandboxFailed as probe_upload."""
    parent_end, child_end = socket.socketpair()
    digest = _InOrderDigest() if with_sha256 else None
    server = _RangeServer(current_app._get_current_object(), file_id, length, digest)
    thread = threading.Thread(
        target=server.serve, args=(parent_end,), name="probe-ranges", daemon=True
    )
    thread.start()
    try:
        arguments = {
            "fd": child_end.fileno(),
            "length": length,
            "limits": asdict(MediaLimits.from_config(config)),
        }
        budget = Budget(config["MEDIA_JOB_MEMORY_MB"], config["MEDIA_PROBE_SECONDS"])
        with child_end:
            answer = run("probe_remote", arguments, budget, pass_fds=(child_end.fileno(),))
    except Exception:
        server.raise_failure()
        raise
    finally:
        parent_end.shutdown(socket.SHUT_RDWR)  # the server's recv returns: it ends
        thread.join(timeout=10)
        parent_end.close()
    server.raise_failure()
    return MediaInfo(**answer), _sha256(digest, thread, file_id, length)


def _sha256(digest, server_thread, file_id, length):
    if digest is None:
        return None
    if server_thread.is_alive():  # stuck on the database: its digest may still move
        return tus_chunks.sha256(file_id, length)
    return digest.finish(file_id, length)


class _RangeServer:
    """Answers the child's range requests for one stored file, on one thread."""

    def __init__(self, app, file_id, length, digest):
        self.app, self.file_id, self.length = app, file_id, length
        self.recent = collections.OrderedDict()
        self.digest = digest  # an _InOrderDigest, or None
        self.failures = []  # what stopped it: the database, not the file, is then at fault
        self.ahead = None  # (key, future) of the block being read ahead

    def raise_failure(self):
        if self.failures:
            raise self.failures[0]

    def serve(self, connection):
        """Until the child (or probe_stored) closes its end."""
        with ThreadPoolExecutor(1, thread_name_prefix="probe-read-ahead") as reader:
            try:
                with self.app.app_context():
                    self._answer_requests(connection, reader)
            except OSError:
                return  # the child closed its end: done, or it died (its exit says why)
            except Exception as error:  # the database: the child then reads a closed file
                log.warning("serving the probe of stored file %s failed: %r", self.file_id, error)
                self.failures.append(error)
                connection.close()

    def _answer_requests(self, connection, reader):
        # Where the last few requests ended: the probe's two readers take turns, and a read
        # that continues one of them is that reader reading on (remote_file's window grows).
        ends = collections.deque(maxlen=RECENT_BLOCKS)
        while True:
            # The child's close ends this with OSError, which serve() takes as the end.
            start, size = REQUEST.unpack(receive_exactly(connection, REQUEST.size))
            data = self._block(start, min(size, MAX_READ))
            if self.digest is not None:
                self.digest.saw(start, data)
            connection.sendall(ANSWER.pack(len(data)))
            connection.sendall(data)
            following = start + size
            if start in ends and following < self.length:
                self._read_ahead(
                    reader, (following, min(next_window(size), self.length - following))
                )
            ends.append(following)

    def _block(self, start, size):
        """The bytes asked for: read ahead, or one of the last few blocks served (the probe
        opens the file twice and reads its head again, and the mov demuxer seeks back)."""
        key = (start, size)
        data = self.recent.pop(key, None)
        if data is None and self.ahead is not None and self.ahead[0] == key:
            data, self.ahead = self.ahead[1].result(), None
        if data is None:
            data = tus_chunks.read(self.file_id, start, size, self.length)
        self.recent[key] = data
        while len(self.recent) > RECENT_BLOCKS:
            self.recent.popitem(last=False)
        return data

    def _read_ahead(self, reader, key):
        if self.ahead is not None:
            self.ahead[1].result()  # one block ahead at most: the memory bound
        self.ahead = (key, reader.submit(self._read_in_context, *key))

    def _read_in_context(self, start, size):
        with self.app.app_context():
            return tus_chunks.read(self.file_id, start, size, self.length)


class _InOrderDigest:
    """sha256 of the file, fed with the blocks served that continue what it has hashed."""

    def __init__(self):
        self.sha256, self.upto = hashlib.sha256(), 0

    def saw(self, start, data):
        if start <= self.upto < start + len(data):
            self.sha256.update(memoryview(data)[self.upto - start :])
            self.upto = start + len(data)

    def finish(self, file_id, length):
        """The hex digest, the bytes the probe never read read now."""
        left = length - self.upto
        for data in tus_chunks.chunks_from(file_id, self.upto, length) if left > 0 else ():
            self.sha256.update(memoryview(data)[:left])
            left -= len(data)
        return self.sha256.hexdigest()
