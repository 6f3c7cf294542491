"""The budget: reserving room for a fill, evicting the least recently used copies.

Runs only when a fill starts, under ``evict.lock``, so a hit never scans a directory. The
scan also clears what crashed processes left: a ``.part``, a stamp without its copy (or its
temp file), a copy without its stamp, each only while nobody holds its bucket's fill lock (a
filler that died holds none: flock locks die with their holder), so never a live fill's
files, however long it runs and whatever the clocks say; and tombstones past a day.
"""

import os
from typing import NamedTuple

from services.media_cache.store import (
    PART_SUFFIX,
    STAMP_SUFFIX,
    flocked,
    key_of,
    remove_entry,
    unlink_quietly,
)

# Tombstones only have to outlive the fills in flight when they were set.
TOMB_SECONDS = 24 * 3600


class Entry(NamedTuple):
    name: str
    size: int
    used_ns: int  # the stamp's mtime: the LRU clock


def reserve(layout, name, length, budget, now_ns):
    """Create the ``.part`` of a fill once ``length`` more bytes fit in ``budget``.

    Returns (fd, path) of the new part, or None when the fills in flight already hold the
    room. Under the eviction lock, so two reservations never count the same free bytes.
    """
    with flocked(layout.evict_lock, blocking=True):
        entries, reserved = scan(layout, now_ns)
        used = reserved + sum(entry.size for entry in entries)
        for entry in sorted(entries, key=lambda entry: entry.used_ns):
            if used + length <= budget:
                break
            remove_entry(layout, entry.name)
            used -= entry.size
        if used + length > budget:
            return None
        path = layout.part(name, length)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        return os.open(path, flags, 0o600), path


def scan(layout, now_ns):
    """(complete entries, bytes reserved by live fills); removes leftovers on the way."""
    copies, stamps = {}, {}
    with os.scandir(layout.objects) as listing:
        for item in listing:
            try:
                stat = item.stat(follow_symlinks=False)
            except FileNotFoundError:  # removed since the listing (an eviction elsewhere)
                continue
            if item.name.endswith(STAMP_SUFFIX):
                stamps[item.name[: -len(STAMP_SUFFIX)]] = stat.st_mtime_ns
            else:
                copies[item.name] = stat.st_size
    entries = [Entry(name, size, stamps[name]) for name, size in copies.items() if name in stamps]
    for name in copies.keys() - stamps.keys():  # never served, so only weight
        _remove_leftover(layout, name, layout.data(name))
    for name in stamps.keys() - copies.keys():
        _remove_leftover(layout, name, layout.stamp(name))
    _clear_tombs(layout, now_ns)
    return entries, _reserved_by_live_fills(layout)


def _remove_leftover(layout, name, path):
    """Remove ``path`` unless a fill of its bucket runs now (then it may be that fill's)."""
    with flocked(layout.lock(key_of(name)), blocking=False) as free:
        if free:
            unlink_quietly(path)
        return free


def _reserved_by_live_fills(layout):
    """The lengths of the ``.part`` files of live fills; a dead filler's files are removed."""
    reserved = 0
    with os.scandir(layout.tmp) as listing:
        names = [(item.name, item.path) for item in listing]
    for name, path in names:
        removed = _remove_leftover(layout, name, path)
        if not removed and name.endswith(PART_SUFFIX):
            reserved += _part_length(name)
    return reserved


def _part_length(name):
    try:
        return int(name[: -len(PART_SUFFIX)].rsplit(".", 1)[1])
    except (IndexError, ValueError):
        return 0


def _age_seconds(path, now_ns):
    try:
        return (now_ns - os.stat(path).st_mtime_ns) / 10**9
    except FileNotFoundError:
        return 0


def _clear_tombs(layout, now_ns):
    with os.scandir(layout.tombs) as listing:
        old = [item.path for item in listing if _age_seconds(item.path, now_ns) > TOMB_SECONDS]
    for path in old:
        unlink_quietly(path)


def remove_parts(layout, name):
    """Remove the ``.part`` files of ``name``: its filler died (the caller holds its lock)."""
    prefix = name + "."
    with os.scandir(layout.tmp) as listing:
        stale = [item.path for item in listing if item.name.startswith(prefix)]
    for path in stale:
        if path.endswith(PART_SUFFIX):
            unlink_quietly(path)
