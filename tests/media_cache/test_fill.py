"""Filling the media cache: read-through copies of GridFS files, verified before first use.

See docs/playback.md#the-media-cache.
"""

import os

import pytest

from extensions import media_chunks
from models import media_file
from services.media_cache import fill as fills
from services.media_cache.cache import FillJob
from services.media_cache.store import entry_name
from tests.support.media_cache import PIECE, HeldSource, Stored, pattern


def filled(cache, stored, read_range=None):
    assert cache.want(stored.doc, stored.sha256, read_range or stored.read_range)
    assert cache.wait_idle()
    return cache.lookup(stored.doc, stored.sha256)


def contents(copy):
    with copy:
        copy.seek(0)
        return copy.read()


def test_a_miss_is_none_and_a_fill_makes_it_a_hit(cache):
    stored = Stored(pattern(3 * PIECE + 17))
    assert cache.lookup(stored.doc, stored.sha256) is None
    copy = filled(cache, stored)
    assert copy.size == len(stored.data)
    assert contents(copy) == stored.data


def test_a_hit_is_a_real_file_a_range_is_a_seek(cache):
    stored = Stored(pattern(2 * PIECE + 5))
    with filled(cache, stored) as copy:
        copy.seek(PIECE - 3)
        assert copy.read(10) == stored.data[PIECE - 3 : PIECE + 7]
        assert os.pread(copy.fileno(), 4, len(stored.data) - 4) == stored.data[-4:]


@pytest.mark.parametrize("backend", ["mongomock", "embedded"], indirect=True)
def test_fills_from_gridfs_through_media_chunks_in_the_background(make_app, make_cache):
    """The lead's wiring: ``want(file, sha256, media_chunks.read)`` from a request; the fill
    runs in a pool thread, in the app's context, and reads GridFS chunk by chunk."""
    app = make_app()
    data = pattern(5 * media_file.CHUNK_SIZE + 1234, seed=7)
    with app.app_context():
        file_id, sha256 = media_file.store_bytes(data, "clip.mp4", "video/mp4")
        doc = media_file.find_file(file_id)
    cache = make_cache(app=app)
    assert cache.want(doc, sha256, media_chunks.read)
    assert cache.wait_idle()
    assert contents(cache.lookup(doc, sha256)) == data


def test_bytes_that_do_not_match_the_sha256_are_never_put_in_place(cache, cache_dir):
    stored = Stored(pattern(PIECE + 1))
    liar = Stored(pattern(PIECE + 1, seed=2), file_id=stored.doc["_id"])
    assert filled(cache, stored, read_range=liar.read_range) is None
    assert os.listdir(cache_dir / "v1" / "objects") == []
    assert os.listdir(cache_dir / "v1" / "tmp") == []


def test_a_source_longer_than_the_file_is_refused(cache, cache_dir):
    stored = Stored(pattern(PIECE))

    def longer(file_doc, start, end):  # more than asked: a file that grew, a buggy reader
        yield stored.data
        yield b"x"

    assert filled(cache, stored, read_range=longer) is None
    assert os.listdir(cache_dir / "v1" / "objects") == []


def test_a_failed_fill_is_not_asked_for_again_at_once(make_cache):
    cache = make_cache(retry_seconds=3600)
    stored = Stored(pattern(100))
    liar = Stored(pattern(100, seed=3), file_id=stored.doc["_id"])
    assert filled(cache, stored, read_range=liar.read_range) is None
    assert not cache.want(stored.doc, stored.sha256, stored.read_range)


def test_a_file_over_the_fraction_of_the_budget_is_never_cached(make_cache):
    cache = make_cache(budget=1000, max_file_fraction=0.25)
    big, small = Stored(pattern(251)), Stored(pattern(250))
    assert not cache.want(big.doc, big.sha256, big.read_range)
    assert filled(cache, small) is not None


def test_an_empty_file_or_a_malformed_hash_is_not_cached(cache):
    empty = Stored(b"")
    assert not cache.want(empty.doc, empty.sha256, empty.read_range)
    stored = Stored(pattern(10))
    assert not cache.want(stored.doc, stored.sha256.upper(), stored.read_range)
    assert not cache.want(stored.doc, "../../etc/passwd", stored.read_range)
    assert cache.lookup(stored.doc, "../../etc/passwd") is None


def test_a_file_queued_or_filling_is_not_queued_again(cache):
    stored = Stored(pattern(2 * PIECE))
    held = HeldSource(stored)
    assert cache.want(stored.doc, stored.sha256, held.read_range)
    held.wait_entered(1)
    assert not cache.want(stored.doc, stored.sha256, held.read_range)
    held.release()
    assert cache.wait_idle()
    assert held.entered == 1
    assert contents(cache.lookup(stored.doc, stored.sha256)) == stored.data


def test_no_more_fills_run_at_once_than_the_pool_has_threads(make_cache):
    cache = make_cache(fill_threads=2)
    files = [Stored(pattern(2 * PIECE, seed=n)) for n in range(5)]
    sources = [HeldSource(stored) for stored in files]
    for stored, source in zip(files, sources, strict=True):
        assert cache.want(stored.doc, stored.sha256, source.read_range)
    for source in sources[:2]:
        source.wait_entered(1)
    assert [source.entered for source in sources] == [1, 1, 0, 0, 0]
    for source in sources:
        source.release()
    assert cache.wait_idle()
    assert all(cache.lookup(stored.doc, stored.sha256) for stored in files)


def test_past_the_pending_bound_a_request_is_dropped(make_cache):
    cache = make_cache(fill_threads=1, max_pending=2)
    files = [Stored(pattern(2 * PIECE, seed=n)) for n in range(4)]
    held = HeldSource(files[0])
    assert cache.want(files[0].doc, files[0].sha256, held.read_range)
    held.wait_entered(1)
    assert cache.want(files[1].doc, files[1].sha256, files[1].read_range)
    assert cache.want(files[2].doc, files[2].sha256, files[2].read_range)
    assert not cache.want(files[3].doc, files[3].sha256, files[3].read_range)
    held.release()
    assert cache.wait_idle()


def test_another_process_sees_a_copy_it_did_not_fill(make_cache):
    one, other = make_cache(), make_cache()
    stored = Stored(pattern(PIECE + 99))
    assert filled(one, stored) is not None
    assert contents(other.lookup(stored.doc, stored.sha256)) == stored.data


def test_while_one_process_fills_a_file_another_does_not(make_cache):
    one, other = make_cache(), make_cache()
    stored = Stored(pattern(3 * PIECE))
    held = HeldSource(stored)
    assert one.want(stored.doc, stored.sha256, held.read_range)
    held.wait_entered(1)
    name = entry_name(stored.doc["_id"], stored.sha256)
    job = FillJob(name, stored.doc, stored.sha256, stored.read_range)
    outcome = fills.fill(other.layout, job, other.budget, fills.write_all, other.clock_ns)
    assert outcome == fills.BUSY
    held.release()
    assert one.wait_idle()
    assert contents(other.lookup(stored.doc, stored.sha256)) == stored.data
