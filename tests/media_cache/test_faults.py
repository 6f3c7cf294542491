"""The media cache's failure modes: each falls back to GridFS (lookup is None) and never
serves wrong bytes. See docs/playback.md#the-media-cache."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from services.media_cache import fill as fills
from services.media_cache.store import entry_name
from tests.support.media_cache import PIECE, DiskFull, Stored, pattern

ROOT = Path(__file__).resolve().parents[2]


def fill(cache, stored):
    assert cache.want(stored.doc, stored.sha256, stored.read_range)
    assert cache.wait_idle()


def copy_path(cache_dir, stored):
    return cache_dir / "v1" / "objects" / entry_name(stored.doc["_id"], stored.sha256)


def read_all(copy):
    with copy:
        return copy.read()


def test_a_deleted_copy_falls_back_and_is_filled_again(cache, cache_dir):
    stored = Stored(pattern(2 * PIECE))
    fill(cache, stored)
    read_all(cache.lookup(stored.doc, stored.sha256))  # verified, its stamp remembered
    os.unlink(copy_path(cache_dir, stored))
    assert cache.lookup(stored.doc, stored.sha256) is None
    fill(cache, stored)
    assert read_all(cache.lookup(stored.doc, stored.sha256)) == stored.data


def test_a_cache_directory_emptied_by_hand_is_made_again(cache, cache_dir):
    stored = Stored(pattern(PIECE))
    fill(cache, stored)
    shutil.rmtree(cache_dir)
    assert cache.lookup(stored.doc, stored.sha256) is None
    fill(cache, stored)
    assert read_all(cache.lookup(stored.doc, stored.sha256)) == stored.data


def test_a_copy_corrupted_in_place_at_the_same_size_is_never_served(cache, cache_dir):
    stored = Stored(pattern(2 * PIECE))
    fill(cache, stored)
    read_all(cache.lookup(stored.doc, stored.sha256))
    path = copy_path(cache_dir, stored)
    with open(path, "r+b") as file:  # at once: in the clock tick of the verification, maybe
        file.seek(PIECE)
        file.write(bytes(b ^ 0xFF for b in stored.data[PIECE : PIECE + 64]))
    assert path.stat().st_size == len(stored.data)
    assert cache.lookup(stored.doc, stored.sha256) is None
    assert not path.exists()  # dropped: the next miss fills it again
    fill(cache, stored)
    assert read_all(cache.lookup(stored.doc, stored.sha256)) == stored.data


def test_a_verified_copy_carries_an_mtime_no_write_leaves(cache, cache_dir):
    """Why same-size corruption is seen even in the clock tick of the verification: every
    copy's mtime is set to 1970 once verified, and a write moves it to now."""
    stored = Stored(pattern(PIECE))
    fill(cache, stored)
    path = copy_path(cache_dir, stored)
    assert path.stat().st_mtime_ns == fills.VERIFIED_MTIME_NS
    with open(path, "r+b") as file:
        file.write(b"x")
    assert path.stat().st_mtime_ns != fills.VERIFIED_MTIME_NS


def test_a_truncated_copy_is_never_served(make_cache, cache_dir):
    one, other = make_cache(), make_cache()
    stored = Stored(pattern(2 * PIECE))
    fill(one, stored)
    os.truncate(copy_path(cache_dir, stored), PIECE)
    assert other.lookup(stored.doc, stored.sha256) is None  # a process that never saw it
    assert one.lookup(stored.doc, stored.sha256) is None


def test_a_copy_replaced_by_another_file_is_never_served(cache, cache_dir):
    stored = Stored(pattern(PIECE))
    fill(cache, stored)
    path = copy_path(cache_dir, stored)
    impostor = path.with_name("impostor")
    impostor.write_bytes(pattern(PIECE, seed=9))
    os.utime(impostor, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns))
    os.rename(impostor, path)  # same size, same mtime, another inode
    assert cache.lookup(stored.doc, stored.sha256) is None


def test_a_full_disk_mid_fill_leaves_nothing_and_a_later_fill_works(make_cache, cache_dir):
    full = make_cache(writer=DiskFull(room=PIECE + 100), retry_seconds=3600)
    stored = Stored(pattern(3 * PIECE))
    fill(full, stored)
    assert full.lookup(stored.doc, stored.sha256) is None
    assert os.listdir(cache_dir / "v1" / "objects") == []
    assert os.listdir(cache_dir / "v1" / "tmp") == []
    assert not full.want(stored.doc, stored.sha256, stored.read_range)  # not at once again
    freed = make_cache()  # another worker, once there is room
    fill(freed, stored)
    assert read_all(freed.lookup(stored.doc, stored.sha256)) == stored.data


def start_filler(cache_dir, stored, mode):
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "tests.support.media_cache_filler", str(cache_dir)),
            *(str(stored.doc["_id"]), str(len(stored.data)), str(stored.seed), mode),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def kill_mid_fill(cache_dir, stored):
    """A worker process killed (SIGKILL) after writing part of ``stored``: its .part stays."""
    child = start_filler(cache_dir, stored, "hang")
    assert child.stdout.readline() == "writing\n"
    child.send_signal(signal.SIGKILL)
    child.wait()
    parts = os.listdir(cache_dir / "v1" / "tmp")
    assert [name for name in parts if name.endswith(".part")]
    return parts


def test_a_fill_killed_midway_is_never_served_and_is_taken_over(cache, cache_dir):
    stored = Stored.patterned(4 * PIECE, seed=11)
    kill_mid_fill(cache_dir, stored)
    assert cache.lookup(stored.doc, stored.sha256) is None
    fill(cache, stored)
    assert read_all(cache.lookup(stored.doc, stored.sha256)) == stored.data
    assert os.listdir(cache_dir / "v1" / "tmp") == []


def test_a_dead_fills_part_does_not_hold_the_budget(make_cache, cache_dir):
    """The killed fill reserved most of the budget; the next fill's scan frees it."""
    cache = make_cache(budget=5 * PIECE)
    dead = Stored.patterned(4 * PIECE, seed=12)
    kill_mid_fill(cache_dir, dead)
    other = Stored(pattern(3 * PIECE, seed=13))
    fill(cache, other)
    assert read_all(cache.lookup(other.doc, other.sha256)) == other.data
    assert os.listdir(cache_dir / "v1" / "tmp") == []


def test_a_copy_filled_by_another_process_is_served_here(cache, cache_dir):
    stored = Stored.patterned(2 * PIECE + 3, seed=14)
    child = start_filler(cache_dir, stored, "finish")
    out, _ = child.communicate()
    assert child.returncode == 0 and out.strip() == "filled"
    assert read_all(cache.lookup(stored.doc, stored.sha256)) == stored.data
