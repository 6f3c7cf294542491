"""Fixtures of the media cache tests: a cache directory and caches on it, closed afterwards."""

import pytest

from services.media_cache import MediaCache
from tests.support.media_cache import StepClock

MB = 1024 * 1024


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "media-cache"


@pytest.fixture
def make_cache(cache_dir):
    """A MediaCache on ``cache_dir`` (each call: another process's view of the same disk)."""
    caches = []
    clock = StepClock()  # one wall clock for all the processes of a host

    def build(budget=8 * MB, **tuning):
        tuning.setdefault("clock_ns", clock)
        tuning.setdefault("max_file_fraction", 1.0)
        cache = MediaCache(str(cache_dir), budget, **tuning)
        caches.append(cache)
        return cache

    yield build
    for cache in caches:
        cache.close()


@pytest.fixture
def cache(make_cache):
    return make_cache()
