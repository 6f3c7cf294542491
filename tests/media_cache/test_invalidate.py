"""Invalidating the media cache (purge, re-processing, account deletion), the cache turned
off, and its settings. See docs/playback.md#the-media-cache."""

import os
import shutil

import pytest

from config import ConfigError, load_config
from services.media_cache import MediaCacheComponent, NullCache, build
from tests.support.media_cache import PIECE, HeldSource, Stored, pattern

MB = 1024 * 1024


def fill(cache, stored, read_range=None):
    assert cache.want(stored.doc, stored.sha256, read_range or stored.read_range)
    assert cache.wait_idle()


def test_invalidate_removes_the_copies_of_the_ids_named(make_cache, cache_dir):
    one, other = make_cache(), make_cache()
    gone, kept = Stored(pattern(PIECE, seed=1)), Stored(pattern(PIECE, seed=2))
    fill(one, gone)
    fill(one, kept)
    other.lookup(gone.doc, gone.sha256).close()  # another process has it verified
    assert one.invalidate([gone.doc["_id"]]) == 1
    assert other.lookup(gone.doc, gone.sha256) is None
    assert one.lookup(gone.doc, gone.sha256) is None
    left = os.listdir(cache_dir / "v1" / "objects")
    assert left and all(name.startswith(str(kept.doc["_id"])) for name in left)
    kept_copy = one.lookup(kept.doc, kept.sha256)
    assert kept_copy is not None
    kept_copy.close()


def test_a_fill_running_when_its_id_is_invalidated_does_not_stay(make_cache, cache_dir):
    cache = make_cache()
    stored = Stored(pattern(3 * PIECE))
    held = HeldSource(stored)
    assert cache.want(stored.doc, stored.sha256, held.read_range)
    held.wait_entered(1)
    assert make_cache().invalidate([stored.doc["_id"]]) == 0  # nothing in place yet
    held.release()
    assert cache.wait_idle()
    assert cache.lookup(stored.doc, stored.sha256) is None
    assert os.listdir(cache_dir / "v1" / "objects") == []


def test_an_open_copy_reads_to_its_end_after_invalidation(cache):
    """A stream already sending from the copy finishes: the bytes were the right ones."""
    stored = Stored(pattern(2 * PIECE))
    fill(cache, stored)
    with cache.lookup(stored.doc, stored.sha256) as copy:
        cache.invalidate([stored.doc["_id"]])
        assert copy.read() == stored.data


def test_a_later_fill_of_an_invalidated_id_works(make_cache):
    cache = make_cache(retry_seconds=0)
    stored = Stored(pattern(PIECE))
    cache.invalidate([stored.doc["_id"]])
    fill(cache, stored)  # the tombstone stops only fills that were running at the time
    copy = cache.lookup(stored.doc, stored.sha256)
    assert copy is not None
    copy.close()


def test_invalidate_never_raises_into_the_deletion_that_calls_it(cache, cache_dir):
    shutil.rmtree(cache_dir)
    cache_dir.write_text("the disk went away")  # no directory can be made there now
    assert cache.invalidate([Stored(pattern(10)).doc["_id"]]) == 0


def test_with_no_budget_the_cache_is_a_no_op(tmp_path):
    cache = build({"MEDIA_CACHE_MB": 0, "MEDIA_CACHE_DIR": str(tmp_path / "cache")})
    stored = Stored(pattern(100))
    assert isinstance(cache, NullCache) and not cache.enabled
    assert not cache.want(stored.doc, stored.sha256, stored.read_range)
    assert cache.lookup(stored.doc, stored.sha256) is None
    assert cache.invalidate([stored.doc["_id"]]) == 0
    assert cache.wait_idle()
    cache.close()
    assert not (tmp_path / "cache").exists()


def test_a_directory_that_cannot_be_made_turns_the_cache_off(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    cache = build({"MEDIA_CACHE_MB": 64, "MEDIA_CACHE_DIR": str(blocker / "cache")})
    assert isinstance(cache, NullCache)


def test_the_cache_directory_is_private(cache, cache_dir):
    for folder in ("objects", "tmp", "locks", "tombs"):
        assert (cache_dir / "v1" / folder).stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("backend", ["mongomock"], indirect=True)
def test_init_app_binds_a_cache_to_each_app(make_app, tmp_path):
    on = make_app(MEDIA_CACHE_MB=64, MEDIA_CACHE_DIR=str(tmp_path / "cache"))
    off = make_app(MEDIA_CACHE_MB=0)
    component = MediaCacheComponent()
    component.init_app(on)
    component.init_app(off)
    assert component.of(on).enabled and component.of(on).budget == 64 * MB
    assert not component.of(off).enabled
    component.of(on).close()


@pytest.mark.parametrize(
    "app_env,expected", [("development", 1024), ("testing", 0), ("production", 0)]
)
def test_the_cache_is_on_by_default_only_in_development(monkeypatch, app_env, expected):
    monkeypatch.delenv("MEDIA_CACHE_MB", raising=False)
    secrets = {name: f"{name.lower()}-" + "s" * 40 for name in ("SECRET_KEY", "JWT_SECRET_KEY")}
    secrets["PLAYBACK_SECRET_KEY"] = "playback-" + "p" * 40
    secrets["PAYMENT_PROVIDER"] = None
    assert load_config({"APP_ENV": app_env, **secrets})["MEDIA_CACHE_MB"] == expected


@pytest.mark.parametrize("value", ["-1", str(16 * 1024 * 1024 + 1), "lots"])
def test_a_bad_budget_stops_the_start(monkeypatch, value):
    monkeypatch.setenv("MEDIA_CACHE_MB", value)
    with pytest.raises(ConfigError, match="MEDIA_CACHE_MB"):
        load_config({"APP_ENV": "testing"})
