"""MediaCache: look up a verified copy, ask for a fill, invalidate; NullCache when it is off.

What a hit checks, and what that detects. A copy is verified once, by its filler, against
the stored sha256 before it is renamed into place; its stamp records the copy's inode, size
and mtime_ns as verified. Each ``lookup`` opens the copy and compares its fstat with the
stamp (no hashing: a hit is a dict lookup, an open and an fstat). That catches a copy
deleted (the open fails), replaced by another file (another inode), truncated or extended
(size), or written in place through the filesystem (every copy's mtime is set to 1970 when
it is verified and any write moves it to now, so same-size corruption by a write is seen,
even in the same clock tick). It does not catch what leaves all three alone:
bit rot under the filesystem, a raw write to the block device, or someone who rewrites the
bytes and then sets the mtime back (that needs write access to the cache directory, which is
the service's own, 0700). A copy that fails the check is dropped and the request falls back
to GridFS; nothing is served from it.
"""

import contextlib
import io
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from services.media_cache import fill as fills
from services.media_cache.pool import FillPool
from services.media_cache.store import (
    STAMP_SUFFIX,
    Layout,
    Stamp,
    entry_name,
    flocked,
    id_key,
    key_of,
    read_stamp,
    remove_entry,
)

log = logging.getLogger(__name__)

# A process remembers this many stamps and touch times; past it, it starts again (rereading
# a stamp costs one small file read).
MEMORY_ENTRIES = 50_000


class CachedFile(io.FileIO):
    """An open, verified, read-only copy: a real file (``fileno()`` for sendfile, ``seek``,
    ``read``); ``size`` is its length. Closing it is the caller's."""

    size = 0


@dataclass(frozen=True)
class FillJob:
    name: str
    file_doc: dict  # its fs.files document
    sha256: str
    read_range: Any  # read_range(file_doc, start, end): bytes start..end (inclusive)

    @property
    def length(self):
        return self.file_doc["length"]


class MediaCache:
    """A bounded on-disk cache of GridFS files, shared by the processes of one host."""

    enabled = True

    def __init__(self, directory, budget_bytes, *, app=None, **tuning):
        self.layout = Layout(directory)  # OSError when the directory cannot be made
        self.budget = budget_bytes
        self.app = app  # fills run in its app context (MediaChunks.read needs one)
        self.max_file_bytes = int(budget_bytes * tuning.get("max_file_fraction", 0.25))
        self.touch_seconds = tuning.get("touch_seconds", 60)
        self.retry_seconds = tuning.get("retry_seconds", 60)
        self.writer = tuning.get("writer", fills.write_all)  # a seam: tests inject ENOSPC
        self.clock_ns = tuning.get("clock_ns", time.time_ns)  # the LRU clock (wall, shared)
        self._stamps, self._touched, self._failed = {}, {}, {}
        self._pool = FillPool(
            self._fill,
            threads=tuning.get("fill_threads", 2),
            max_pending=tuning.get("max_pending", 32),
        )

    def lookup(self, file_doc, sha256):
        """The verified copy of ``file_doc`` (an fs.files document) as a CachedFile, or None."""
        name = entry_name(file_doc["_id"], sha256)
        if name is None:
            return None
        expected = self._stamps.get(name) or read_stamp(self.layout.stamp(name))
        if expected is None:
            return None
        try:
            copy = CachedFile(self.layout.data(name))
        except OSError:  # deleted (evicted, invalidated, by hand): GridFS serves
            self._stamps.pop(name, None)
            return None
        found = Stamp.of(os.fstat(copy.fileno()))
        if found != expected:  # refilled by another process, or changed since verified
            expected = read_stamp(self.layout.stamp(name))
        if found != expected or found.size != file_doc["length"]:
            copy.close()
            self._drop(name, found)
            return None
        self._remember(self._stamps, name, found)
        copy.size = found.size
        self._touch(name)
        return copy

    def want(self, file_doc, sha256, read_range):
        """Ask for a background fill of ``file_doc``; True when one was queued.

        ``read_range(file_doc, start, end)`` yields the file's bytes: MediaChunks.read. Nothing is
        queued for a file too big for the budget (``max_file_fraction`` of it), an empty
        one, or one whose last fill failed less than ``retry_seconds`` ago.
        """
        name = entry_name(file_doc["_id"], sha256)
        length = file_doc.get("length") or 0
        if name is None or not 0 < length <= self.max_file_bytes:
            return False
        failed = self._failed.get(name)
        if failed is not None and time.monotonic() - failed < self.retry_seconds:
            return False
        return self._pool.submit(name, FillJob(name, file_doc, sha256, read_range))

    def invalidate(self, file_ids):
        """Remove the copies of ``file_ids`` (purge, re-processing, account deletion).

        A fill of one of them that is running now does not stay either (its tombstone).
        Returns how many copies were removed here. Never raises: the deletion that calls it
        must go on (a cache directory that fails is logged; its copies are no longer served
        once their GridFS files are gone, as lookups start from the fs.files document).
        """
        keys = {id_key(file_id) for file_id in file_ids}
        if not keys:
            return 0
        try:
            self.layout.ensure()
            self._bury(keys)
            return self._remove(keys)
        except OSError as error:
            log.warning("media cache: invalidating %d ids failed: %r", len(keys), error)
            return 0

    def _bury(self, keys):
        """A tombstone per id, dated now: fills that started before it do not stay."""
        now_ns = self.clock_ns()
        for key in keys:
            with open(self.layout.tomb(key), "ab"):
                pass
            os.utime(self.layout.tomb(key), ns=(now_ns, now_ns))

    def _remove(self, keys):
        with os.scandir(self.layout.objects) as listing:
            found = [item.name for item in listing if key_of(item.name) in keys]
        names = {name.removesuffix(STAMP_SUFFIX) for name in found}  # a stamp alone too
        for name in names:
            self._stamps.pop(name, None)
        return sum(remove_entry(self.layout, name) for name in names)

    def wait_idle(self, timeout=10.0):
        return self._pool.wait_idle(timeout)

    def close(self, timeout=5.0):
        self._pool.close(timeout)

    def _fill(self, job):
        """One fill, in a pool thread (inside the app's context when there is an app)."""
        if self.app is None:
            return self._fill_now(job)
        with self.app.app_context():
            return self._fill_now(job)

    def _fill_now(self, job):
        try:
            self.layout.ensure()
            outcome = fills.fill(self.layout, job, self.budget, self.writer, self.clock_ns)
        except Exception as error:  # ENOSPC, EIO, the database, a corrupt GridFS file
            log.warning("media cache: fill of %s failed, served from GridFS: %r", job.name, error)
            outcome = "error"
        if outcome in (fills.FILLED, fills.PRESENT):
            self._failed.pop(job.name, None)
        elif outcome != fills.BUSY:
            self._remember(self._failed, job.name, time.monotonic())
        if outcome == fills.MISMATCH:
            log.warning("media cache: %s does not match its sha256; not cached", job.name)
        return outcome

    def _drop(self, name, found):
        """Remove a copy that no longer matches its stamp, unless a fill holds its lock now."""
        self._stamps.pop(name, None)
        with flocked(self.layout.lock(key_of(name)), blocking=False) as mine:
            if not mine:
                return
            try:
                current = os.stat(self.layout.data(name)).st_ino
            except FileNotFoundError:
                current = None
            if current == found.ino:  # still the copy that failed, not a newer one
                remove_entry(self.layout, name)
                log.warning("media cache: %s changed after it was verified; dropped", name)

    def _touch(self, name):
        """Move the copy up the LRU order: its stamp's mtime, at most once a ``touch_seconds``."""
        now = time.monotonic()
        last = self._touched.get(name)
        if last is not None and now - last < self.touch_seconds:
            return
        self._remember(self._touched, name, now)
        now_ns = self.clock_ns()
        with contextlib.suppress(OSError):  # evicted meanwhile: the open copy still serves
            os.utime(self.layout.stamp(name), ns=(now_ns, now_ns))

    @staticmethod
    def _remember(memory, name, value):
        if len(memory) >= MEMORY_ENTRIES and name not in memory:
            memory.clear()
        memory[name] = value


class NullCache:
    """The cache when MEDIA_CACHE_MB is 0 (or its directory is unusable): never a hit."""

    enabled = False

    def lookup(self, file_doc, sha256):
        return None

    def want(self, file_doc, sha256, read_range):
        return False

    def invalidate(self, file_ids):
        return 0

    def wait_idle(self, timeout=10.0):
        return True

    def close(self, timeout=5.0):
        pass
