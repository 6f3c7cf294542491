"""One fill: a GridFS file copied to the cache, verified, then renamed into place.

The copy is written chunk by chunk to a ``.part`` file (memory does not grow with the
file), hashed as it is written, fsynced, and renamed into place only when its length and
sha256 are the stored ones: a copy whose hash differs never becomes visible. Its stamp
(inode, size and the mtime set once the hash matched; a rename keeps all three) is written
first, so a copy is never in place without one. The caller holds no lock; this takes the
id's fill lock without waiting: a fill elsewhere (another worker process) means there is
nothing to do.
"""

import contextlib
import hashlib
import os

from services.media_cache import evict
from services.media_cache.store import (
    Stamp,
    flocked,
    fsync_directory,
    key_of,
    read_stamp,
    remove_entry,
    unlink_quietly,
    write_stamp,
)

# What a fill came to. Only FILLED puts a copy in place; the failures keep the key from
# being asked for again for a while (MediaCache.retry_seconds).
FILLED, BUSY, PRESENT, NO_ROOM, INVALIDATED = "filled", "busy", "present", "no_room", "invalidated"
MISMATCH = "mismatch"


# The mtime every verified copy carries: 1970-01-01T00:00:01Z (their stamps' mtimes are the
# LRU clock; the copies' own say only "unchanged since verified").
VERIFIED_MTIME_NS = 10**9


class Mismatch(Exception):
    """The bytes read are not the stored file: wrong length or sha256."""


def write_all(fd, data):
    """os.write until every byte of ``data`` is written (a short write is legal)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def fill(layout, job, budget, writer, clock_ns):
    """Copy ``job`` (a FillJob) into the cache; one of the outcomes above.

    Raises what reading or writing raised (OSError such as ENOSPC, the source's errors):
    the ``.part`` is removed first, so nothing of a failed fill is left or ever served.
    """
    key = key_of(job.name)
    started_ns = clock_ns()  # an invalidate() from now on undoes this fill
    with flocked(layout.lock(key), blocking=False) as mine:
        if not mine:
            return BUSY
        if _in_place(layout, job.name):
            return PRESENT
        evict.remove_parts(layout, job.name)  # a dead filler's; we hold the lock now
        reserved = evict.reserve(layout, job.name, job.length, budget, started_ns)
        if reserved is None:
            return NO_ROOM
        fd, part = reserved
        try:
            stamp = _copy(fd, job, writer)
            return _place(layout, job.name, part, stamp, clock_ns, started_ns)
        except Mismatch:
            return MISMATCH
        finally:
            os.close(fd)
            unlink_quietly(part)  # gone already when the rename happened


def _in_place(layout, name):
    """True when a copy with a matching stamp is there (another process filled it)."""
    try:
        current = Stamp.of(os.stat(layout.data(name)))
    except FileNotFoundError:
        return False
    return current == read_stamp(layout.stamp(name))


def _copy(fd, job, writer):
    """Write the file's bytes to ``fd``; its Stamp once they are verified and on disk."""
    digest = hashlib.sha256()
    written = 0
    pieces = job.read_range(job.file_doc, 0, job.length - 1)
    # Closed on any exit: MediaChunks' read-ahead thread stops with its iterator.
    with contextlib.closing(pieces) if hasattr(pieces, "close") else contextlib.nullcontext():
        for piece in pieces:
            written += len(piece)  # counted as given: a source that gives more is refused
            if written > job.length:
                raise Mismatch(f"{job.name}: more than {job.length} bytes")
            digest.update(piece)
            writer(fd, piece)
    if written != job.length or digest.hexdigest() != job.sha256:
        raise Mismatch(f"{job.name}: the bytes read are not the stored file")
    # Any later write through the filesystem moves the mtime to now, which is never this, even
    # within the clock tick of the verification: the stamp then sees same-size corruption.
    os.utime(fd, ns=(VERIFIED_MTIME_NS, VERIFIED_MTIME_NS))
    os.fsync(fd)  # before the rename: a power cut must not leave a stamped empty copy
    return Stamp.of(os.fstat(fd))


def _place(layout, name, part, stamp, clock_ns, started_ns):
    """Stamp, rename into place; undone when the id was invalidated since the fill started.

    The tombstone is looked at before and after the rename: an invalidate() that ran before
    the second look is seen there; one that ran after it finds the copy in place and removes
    it itself. Either way an id invalidated during its fill does not stay cached.
    """
    tomb = layout.tomb(key_of(name))
    if _invalidated_since(tomb, started_ns):
        return INVALIDATED
    write_stamp(layout, name, stamp, clock_ns())  # its mtime: the copy's first use
    os.rename(part, layout.data(name))
    fsync_directory(layout.objects)
    if _invalidated_since(tomb, started_ns):
        remove_entry(layout, name)
        return INVALIDATED
    return FILLED


# Tombstones carry wall-clock times from any process: a second of slack for clocks that step.
TOMB_SLACK_NS = 10**9


def _invalidated_since(tomb, started_ns):
    try:
        return os.stat(tomb).st_mtime_ns >= started_ns - TOMB_SLACK_NS
    except FileNotFoundError:
        return False
