"""The budget: reserving room for a fill, evicting the least recently used copies.

Runs only when a fill starts, under ``evict.lock``, so a hit never scans a directory. The
scan also clears what crashed processes left: a ``.part`` whose fill lock nobody holds (its
filler died; flock locks die with their holder), a stamp without its copy, old tombstones.
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

# A stamp with no copy beside it is a fill between its two renames, or a leftover; past this
# age it is a leftover. Tombstones only have to outlive the fills in flight when they were set.
ORPHAN_STAMP_SECONDS = 600
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
    entries = []
    for name, size in copies.items():
        if name in stamps:
            entries.append(Entry(name, size, stamps[name]))
        else:  # a copy never stamped, or whose stamp went: never served, so only weight
            unlink_quietly(layout.data(name))
    for name, mtime_ns in stamps.items():
        if name not in copies and now_ns - mtime_ns > ORPHAN_STAMP_SECONDS * 10**9:
            unlink_quietly(layout.stamp(name))
    _clear_tombs(layout, now_ns)
    return entries, _reserved_by_live_fills(layout, now_ns)


def _reserved_by_live_fills(layout, now_ns):
    """The lengths of the ``.part`` files of live fills; a dead filler's part is removed."""
    reserved = 0
    with os.scandir(layout.tmp) as listing:
        parts = [(item.name, item.path) for item in listing]
    for name, path in parts:
        if name.endswith(PART_SUFFIX):
            length = _part_length(name)
            with flocked(layout.lock(key_of(name)), blocking=False) as free:
                if free:  # nobody fills this bucket: the filler died mid-fill
                    unlink_quietly(path)
                    continue
            reserved += length
        elif _age_seconds(path, now_ns) > ORPHAN_STAMP_SECONDS:
            unlink_quietly(path)  # a stamp's temp file whose writer died
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
