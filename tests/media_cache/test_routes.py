"""The byte routes with the media cache on: media, thumbnail and HLS segments come from the
verified local copy once it exists; a copy that is gone or changed is never served (GridFS
answers); purging a video removes its copies. Both backends."""

import os

import pytest

from models.db import get_db
from services.media_cache.store import entry_name
from tests.support.cached_media import Lookups, cache_settings, stored_files, warm


@pytest.fixture
def app(make_app, tmp_path):
    return make_app(**cache_settings(tmp_path / "media-cache"))


@pytest.fixture
def played(app, client, library, viewer, multi_chunk_mp4):
    video = library.ready_video(multi_chunk_mp4)
    token = library.playback_token(video["id"], viewer)
    return video, token, f"/video/{video['id']}/media?token={token}"


def copy_path(app, doc, sha256):
    cache = app.extensions["media_cache"]
    return cache.layout.data(entry_name(doc["_id"], sha256))


def without_gridfs_chunks(app, doc):
    with app.app_context():
        get_db().fs.chunks.delete_many({"files_id": doc["_id"]})


class TestServedFromTheCopy:
    def test_a_miss_asks_for_a_copy_and_the_next_request_is_served_from_it(
        self, app, client, played
    ):
        video, _, url = played
        lookups = Lookups(app)
        assert client.get(url).data == video["bytes"]  # from GridFS; a fill is asked for
        assert app.extensions["media_cache"].wait_idle(60)
        with app.app_context():
            [(doc, _), *_] = stored_files(video["id"])
        without_gridfs_chunks(app, doc)  # from now on only the copy has the bytes
        ranged = client.get(url, headers={"Range": "bytes=300000-700000"})
        assert ranged.status_code == 206 and ranged.data == video["bytes"][300000:700001]
        whole = client.get(url)
        assert whole.status_code == 200 and whole.data == video["bytes"]
        parts = client.get(url, headers={"Range": "bytes=0-9,500000-500009"})
        assert parts.status_code == 206 and video["bytes"][500000:500010] in parts.data
        assert lookups.misses == 1 and lookups.hits == 3


class TestNeverWrongBytes:
    @pytest.fixture
    def cached(self, app, played):
        video = played[0]
        warm(app, video["id"])
        with app.app_context():
            doc, sha256 = stored_files(video["id"])[0]
        return doc, copy_path(app, doc, sha256)

    def test_a_deleted_copy_falls_back_to_gridfs(self, app, client, played, cached):
        video, _, url = played
        os.unlink(cached[1])
        assert client.get(url, headers={"Range": "bytes=10-19"}).data == video["bytes"][10:20]

    def test_a_copy_changed_in_place_is_not_served(self, app, client, played, cached):
        video, _, url = played
        with open(cached[1], "r+b") as copy:
            copy.seek(10)
            copy.write(b"\0" * 10)
        lookups = Lookups(app)
        assert client.get(url, headers={"Range": "bytes=10-19"}).data == video["bytes"][10:20]
        assert lookups.hits == 0

    def test_purging_the_video_removes_its_copy(self, app, client, library, played, cached):
        video = played[0]
        admin = library.accounts.bearer(library.accounts.user_with_token("admin"))
        purged = client.delete(f"/video/{video['id']}?purge=true", headers=admin)
        assert purged.status_code in (200, 204), purged.json
        assert not os.path.exists(cached[1])
