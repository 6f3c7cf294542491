"""The HLS routes (docs/playback.md#hls): hls_url, the master and media playlists.

The playback token is the only credential of every HLS route, with the media route's
refusals: 400 none, 401 invalid, expired or revoked, 403 another video or no longer allowed.
Fixtures (a real ladder for a ready video): tests/hls/conftest.py. Both backends.
"""

import importlib.util
from urllib.parse import urljoin

import pytest

from models.common import object_id
from models.db import get_db
from tests.support import hls_ladders
from tests.support.errors import assert_error
from tests.support.hls_requests import PLAYLIST, base, get, lines, master_url, uris
from tests.support.records import seen_by_players
from tests.support.tools import require_tool


class TestUrls:
    def test_hls_url_in_both_replies_points_at_the_master(
        self, client, accounts, video, ladder, viewer
    ):
        minted = client.post(
            f"/video/{video['id']}/playback-token", headers=accounts.bearer(viewer)
        )
        token = minted.json["playback_token"]
        assert minted.json["hls_url"] == master_url(video, token)
        stream = client.get(
            f"/video/{video['id']}/stream",
            query_string={"token": token},
            headers=accounts.bearer(viewer),
        )
        assert stream.json["hls_url"] == master_url(video, token)
        assert get(client, stream.json["hls_url"]).status_code == 200

    def test_hls_url_is_null_without_a_ladder(self, client, accounts, library, video, viewer):
        minted = client.post(
            f"/video/{video['id']}/playback-token", headers=accounts.bearer(viewer)
        )
        assert minted.status_code == 200 and minted.json["hls_url"] is None
        token = minted.json["playback_token"]
        stream = client.get(
            f"/video/{video['id']}/stream",
            query_string={"token": token},
            headers=accounts.bearer(viewer),
        )
        assert stream.json["hls_url"] is None
        assert_error(get(client, master_url(video, token)), 404, "hls_not_found")


class TestPlaylists:
    def test_master_lists_every_rendition_with_relative_signed_uris(
        self, client, video, ladder, token
    ):
        response = get(client, master_url(video, token))
        assert response.status_code == 200
        assert response.mimetype == PLAYLIST
        assert response.headers["Cache-Control"] == "private, no-store"
        names = [r["name"] for r in ladder.summary["renditions"]]
        assert names == ["360p", "240p"]
        assert uris(response) == [f"{name}/index.m3u8?token={token}" for name in names]
        assert f"BANDWIDTH={ladder.summary['renditions'][0]['bandwidth']}," in lines(response)[3]

    def test_media_playlist_names_each_segment_its_iv_and_the_key(
        self, client, video, ladder, token
    ):
        response = get(client, f"{base(video)}240p/index.m3u8?token={token}")
        assert response.status_code == 200 and response.mimetype == PLAYLIST
        assert response.headers["Cache-Control"] == "private, no-store"
        assert uris(response) == [f"0000{n}.ts?token={token}" for n in range(2)]
        keys = [line for line in lines(response) if line.startswith("#EXT-X-KEY")]
        assert keys == [
            f'#EXT-X-KEY:METHOD=AES-128,URI="../key?token={token}",'
            f"IV=0x{ladder.ivs[('240p', n)].hex()}"
            for n in range(2)
        ]
        assert "#EXT-X-ENDLIST" in lines(response)

    def test_a_playlist_honours_ranges_like_the_media_route(self, client, video, ladder, token):
        url = f"{base(video)}360p/index.m3u8?token={token}"
        whole = get(client, url)
        part = get(client, url, Range="bytes=0-6")
        assert part.status_code == 206 and part.data == whole.data[:7] == b"#EXTM3U"
        assert get(client, url, **{"If-None-Match": whole.headers["ETag"]}).status_code == 304

    def test_a_ladders_segment_list_is_read_once_and_a_new_ladder_anew(
        self, app, client, video, ladder, token, hls_clip
    ):
        url = f"{base(video)}240p/index.m3u8?token={token}"
        first = get(client, url)
        # The stored list is gone, yet the published ladder's playlist is the same: cached.
        with app.app_context():
            get_db().fs.files.update_many(
                {"metadata.ladder": ladder.ladder}, {"$set": {"metadata.rendition": "moved"}}
            )
        assert get(client, url).data == first.data
        # A new ladder (a new id) is read from the database: its own IVs.
        replaced = hls_ladders.store(app, video["id"], hls_clip[1])
        seen_by_players()  # published by a worker: what the API process remembered expires
        again = lines(get(client, url))
        assert f"IV=0x{replaced.ivs[('240p', 0)].hex()}" in again[6]
        assert again != lines(first)

    def test_parsed_by_m3u8_every_uri_resolves_and_decrypts(
        self, client, video, ladder, token, hls_clip
    ):
        require_tool(importlib.util.find_spec("m3u8"), "m3u8 (requirements-dev.txt)")
        import m3u8

        master = m3u8.loads(get(client, master_url(video, token)).get_data(as_text=True))
        assert master.is_variant and len(master.playlists) == 2
        for variant, summary in zip(master.playlists, ladder.summary["renditions"], strict=True):
            info = variant.stream_info
            assert (info.bandwidth, info.resolution) == (
                summary["bandwidth"],
                (summary["width"], summary["height"]),
            )
            media_url = urljoin(master_url(video, token), variant.uri)
            playlist = m3u8.loads(get(client, media_url).get_data(as_text=True))
            assert playlist.version == 3 and playlist.target_duration == 1
            for n, segment in enumerate(playlist.segments):
                key = get(client, urljoin(media_url, segment.key.uri))
                secret = get(client, urljoin(media_url, segment.uri)).data
                iv = bytes.fromhex(segment.key.iv.removeprefix("0x"))
                plain = hls_ladders.decrypt(key.data, iv, secret)
                assert plain == hls_clip[1].plain(summary["name"], n)

    def test_the_master_get_counts_one_view_and_head_none(self, app, client, video, ladder, token):
        client.head(f"/video/{video['id']}/hls/master.m3u8", query_string={"token": token})
        assert views_of(app, video) == 0
        for _ in range(3):
            get(client, master_url(video, token))
        get(client, f"{base(video)}240p/index.m3u8?token={token}")
        assert views_of(app, video) == 1

    @pytest.mark.parametrize(
        ("path", "code"),
        [
            ("480p/index.m3u8", "rendition_not_found"),
            ("key/index.m3u8", "rendition_not_found"),
            ("240p/00002.ts", "segment_not_found"),
            ("480p/00000.ts", "rendition_not_found"),
            ("240p/100000.ts", "segment_not_found"),
            ("240p/99999999999999999999999.ts", "segment_not_found"),
        ],
    )
    def test_what_the_ladder_lacks_is_404(self, client, video, ladder, token, path, code):
        assert_error(get(client, f"{base(video)}{path}?token={token}"), 404, code)


def views_of(app, video):
    with app.app_context():
        return get_db().videos.find_one({"_id": object_id(video["id"])})["views"]
