"""HLS segments and the thumbnail with the media cache on: served from the verified copies."""

import pytest

from tests.support import hls_ladders
from tests.support.cached_media import cache_settings, stored_files, warm
from tests.support.hls_requests import base


@pytest.fixture
def app(make_app, tmp_path):
    return make_app(**cache_settings(tmp_path / "media-cache"))


def without_gridfs_chunks(app, doc):
    from models.db import get_db

    get_db().fs.chunks.delete_many({"files_id": doc["_id"]})


def test_thumbnail_and_segments_come_from_the_copies(app, client, library, viewer, hls_clip):
    video = library.ready_video(hls_clip[0])
    hls_ladders.store(app, video["id"], hls_clip[1])
    token = library.playback_token(video["id"], viewer)
    thumbnail = client.get(f"/video/{video['id']}/thumbnail?token={token}").data
    segment = client.get(f"{base(video)}240p/00000.ts?token={token}").data
    assert warm(app, video["id"]) >= 3
    with app.app_context():
        for doc, _ in stored_files(video["id"]):
            without_gridfs_chunks(app, doc)
    assert client.get(f"/video/{video['id']}/thumbnail?token={token}").data == thumbnail
    assert client.get(f"{base(video)}240p/00000.ts?token={token}").data == segment
