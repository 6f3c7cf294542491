"""The media cache stays within MEDIA_CACHE_MB, evicting the least recently used copies.
See docs/playback.md#the-media-cache."""

import os
import threading

from tests.support.media_cache import PIECE, HeldSource, Stored, pattern


def fill(cache, stored, read_range=None):
    assert cache.want(stored.doc, stored.sha256, read_range or stored.read_range)
    assert cache.wait_idle()


def cached(cache, stored):
    copy = cache.lookup(stored.doc, stored.sha256)
    if copy is None:
        return False
    with copy:
        assert copy.read() == stored.data
    return True


def on_disk(cache_dir):
    folder = cache_dir / "v1" / "objects"
    return sum(os.path.getsize(folder / name) for name in os.listdir(folder))


def test_the_least_recently_used_copy_goes_first(make_cache):
    cache = make_cache(budget=3 * PIECE, touch_seconds=0)
    first, second, third, fourth = (Stored(pattern(PIECE, seed=n)) for n in range(4))
    for stored in (first, second, third):
        fill(cache, stored)
    assert cached(cache, first)  # used after the other two were filled
    fill(cache, fourth)
    assert [cached(cache, s) for s in (first, second, third, fourth)] == [
        True,
        False,
        True,
        True,
    ]


def test_use_by_another_process_counts_too(make_cache, cache_dir):
    one = make_cache(budget=2 * PIECE, touch_seconds=0)
    other = make_cache(budget=2 * PIECE, touch_seconds=0)
    first, second, third = (Stored(pattern(PIECE, seed=n)) for n in range(3))
    fill(one, first)
    fill(one, second)
    assert cached(other, first)
    fill(one, third)
    assert [cached(one, s) for s in (first, second, third)] == [True, False, True]


def test_the_budget_is_never_exceeded(make_cache, cache_dir):
    budget = 4 * PIECE
    cache = make_cache(budget=budget, max_file_fraction=0.5)
    sizes = [PIECE, 2 * PIECE, PIECE // 2, 2 * PIECE, PIECE, 3 * PIECE // 2, 2 * PIECE]
    for seed, size in enumerate(sizes):
        fill(cache, Stored(pattern(size, seed=seed)))
        assert on_disk(cache_dir) <= budget
    assert on_disk(cache_dir) > budget // 2


def test_fills_in_flight_hold_their_room(make_cache, cache_dir):
    """Two fills at once (two processes) never count the same free bytes."""
    one, other = make_cache(budget=3 * PIECE), make_cache(budget=3 * PIECE)
    big, second = Stored(pattern(2 * PIECE, seed=1)), Stored(pattern(2 * PIECE, seed=2))
    held = HeldSource(big)
    assert one.want(big.doc, big.sha256, held.read_range)
    held.wait_entered(1)
    fill(other, second)  # while the first holds 2 of the 3 pieces of room
    held.release()
    assert one.wait_idle()
    assert cached(one, big)
    assert not cached(other, second)  # no room then; a later miss asks again
    assert on_disk(cache_dir) <= 3 * PIECE


def test_under_churn_every_hit_has_the_right_bytes(make_cache):
    """Two processes' caches, six request threads, a budget for two of four files: copies are
    filled, evicted and refilled while others read them; no hit is ever wrong."""
    caches = [make_cache(budget=2 * PIECE, touch_seconds=0, retry_seconds=0) for _ in range(2)]
    files = [Stored(pattern(PIECE, seed=n)) for n in range(4)]
    hits, errors = [], []

    def requests(worker):
        cache = caches[worker % 2]
        for turn in range(100):
            stored = files[(worker + turn) % 4]
            copy = cache.lookup(stored.doc, stored.sha256)
            if copy is None:  # served from GridFS meanwhile, which takes a while
                cache.want(stored.doc, stored.sha256, stored.read_range)
                assert cache.wait_idle()
                continue
            with copy:
                (hits if copy.read() == stored.data else errors).append(stored)

    threads = [threading.Thread(target=requests, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(cache.wait_idle() for cache in caches)
    assert errors == [] and hits
