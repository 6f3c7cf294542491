"""The cache's files on disk: names, stamps and locks, shared by every process of the host.

Under ``MEDIA_CACHE_DIR``/v1 (the ``v1`` lets a later layout start beside this one)::

    objects/<key>          a verified copy of one GridFS file; never written in place
    objects/<key>.ok       its stamp, "ino size mtime_ns" of the copy as verified; the stamp
                           file's own mtime is the LRU clock (set on fill, touched on use)
    tmp/<key>.<length>.part   a fill in progress; <length> counts against the budget
    locks/<nn>.lock        fill locks (flock), one per bucket of file ids, never deleted
    tombs/<id>             ids invalidated lately: a fill in flight for one never stays
    evict.lock             one budget scan (and reservation) at a time

``<key>`` is ``<file id>.<sha256>``: files are immutable and re-processing makes new ids, so
a key never names two contents; the sha256 in it binds the copy to the hash that verified it.
The locks are flock(2) locks: the kernel drops them when their holder dies, which is how a
crashed filler's leftovers are told from a live fill. Directories are 0700 and files 0600:
the copies are media that only a playback token may read.
"""

import contextlib
import fcntl
import hashlib
import os
import re
import zlib
from typing import NamedTuple

from bson import ObjectId

SHA256_HEX = re.compile(r"[0-9a-f]{64}\Z")
LOCK_BUCKETS = 256  # fills of ids in one bucket wait for each other (skip, then retry later)
STAMP_SUFFIX = ".ok"
PART_SUFFIX = ".part"


class Stamp(NamedTuple):
    """What a verified copy looked like (os.stat) when its hash was checked."""

    ino: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, stat_result):
        return cls(stat_result.st_ino, stat_result.st_size, stat_result.st_mtime_ns)

    def encode(self):
        return f"{self.ino} {self.size} {self.mtime_ns}\n".encode()

    @classmethod
    def decode(cls, data):
        try:
            ino, size, mtime_ns = (int(field) for field in data.split())
        except ValueError:
            return None  # torn or foreign: as if absent, so never trusted
        return cls(ino, size, mtime_ns)


def id_key(file_id):
    """A file id as a file name: an ObjectId's hex, or a digest of any other id's repr."""
    if isinstance(file_id, ObjectId):
        return str(file_id)
    return "x" + hashlib.sha256(repr(file_id).encode()).hexdigest()[:32]


def entry_name(file_id, sha256):
    """``<id>.<sha256>``, or None when the hash is not a sha256 hex digest (nothing cached)."""
    if not isinstance(sha256, str) or not SHA256_HEX.match(sha256):
        return None
    return f"{id_key(file_id)}.{sha256}"


def key_of(name):
    """The id part of an entry, stamp or part name."""
    return name.split(".", 1)[0]


class Layout:
    """The paths of one cache directory; creates the directories (OSError when it cannot)."""

    def __init__(self, directory):
        self.root = os.path.join(os.path.abspath(directory), "v1")
        self.objects = os.path.join(self.root, "objects")
        self.tmp = os.path.join(self.root, "tmp")
        self.locks = os.path.join(self.root, "locks")
        self.tombs = os.path.join(self.root, "tombs")
        self.evict_lock = os.path.join(self.root, "evict.lock")
        self.ensure()

    def ensure(self):
        """Make the directories that are missing (all of them at first; again after an
        operator emptied the cache by hand while the service ran)."""
        for path in (self.objects, self.tmp, self.locks, self.tombs):
            os.makedirs(path, mode=0o700, exist_ok=True)

    def data(self, name):
        return f"{self.objects}/{name}"

    def stamp(self, name):
        return f"{self.objects}/{name}{STAMP_SUFFIX}"

    def part(self, name, length):
        return f"{self.tmp}/{name}.{length}{PART_SUFFIX}"

    def lock(self, key):
        bucket = zlib.crc32(key.encode()) % LOCK_BUCKETS
        return f"{self.locks}/{bucket:02x}.lock"

    def tomb(self, key):
        return f"{self.tombs}/{key}"


@contextlib.contextmanager
def flocked(path, blocking):
    """Hold an exclusive flock on ``path``; yields False when ``blocking`` is off and it is held.

    flock locks belong to the open file description, so two threads of one process exclude
    each other here just as two processes do.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock


def read_stamp(path):
    """The stamp at ``path``, or None when it is missing or unreadable."""
    try:
        with open(path, "rb") as file:
            return Stamp.decode(file.read(100))
    except OSError:
        return None


def write_stamp(layout, name, stamp, mtime_ns):
    """Write the stamp atomically (temp file, fsync, rename), its mtime ``mtime_ns``."""
    temporary = f"{layout.tmp}/{name}.{os.getpid()}.stamp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, stamp.encode())
        os.fsync(fd)
        os.utime(fd, ns=(mtime_ns, mtime_ns))
    finally:
        os.close(fd)
    os.rename(temporary, layout.stamp(name))


def unlink_quietly(path):
    """Remove ``path``; True when it was there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def remove_entry(layout, name):
    """Remove a copy, then its stamp: a stamp without its copy is never served."""
    removed = unlink_quietly(layout.data(name))
    unlink_quietly(layout.stamp(name))
    return removed


def fsync_directory(path):
    """Make a rename in ``path`` durable: a copy must not come back empty after a power cut."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
