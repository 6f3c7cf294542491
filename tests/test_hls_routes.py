"""The HLS routes (docs/playback.md#hls): playlists, encrypted segments and the key.

A real ladder (services.media.ladder, encoded once per run) is stored for a ready video by
the processing job's store (services.media.hls_store, through tests/support/hls_ladders.py).
The playback token is the only credential of every HLS route, with the media route's
refusals: 400 none, 401 invalid, expired or revoked, 403 another video or no longer allowed.
Both backends.
"""

import base64
import hashlib
import importlib.util
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest

from demo import synthetic_media
from models.common import object_id, utcnow
from models.db import get_db
from tests.support import hls_ladders
from tests.support.accounts import Accounts, Library
from tests.support.errors import assert_error
from tests.support.records import PRICE, Records
from tests.support.tokens import expired_copy
from tests.support.tools import require_tool

PLAYLIST = "application/vnd.apple.mpegurl"


@pytest.fixture(scope="session")
def hls_clip(tmp_path_factory):
    """A 2 s 640x360 H.264 + AAC clip and its ladder (360p, 240p; 1 s segments)."""
    folder = tmp_path_factory.mktemp("hls-clip")
    source = synthetic_media.write_video(folder / "clip.mp4", width=640, height=360)
    return source, hls_ladders.encode(source, folder / "work", segment_seconds=1)


@pytest.fixture
def video(library, hls_clip):
    return library.ready_video(hls_clip[0])


@pytest.fixture
def ladder(app, video, hls_clip):
    return hls_ladders.store(app, video["id"], hls_clip[1])


@pytest.fixture
def token(library, video, ladder, viewer):
    return library.playback_token(video["id"], viewer)


def get(client, url, **headers):
    """GET a playlist URI as a player resolves it: relative to the page that named it."""
    parts = urlsplit(url)
    return client.get(parts.path, query_string=parts.query, headers=headers)


def base(video):
    return f"http://localhost/video/{video['id']}/hls/"


def master_url(video, token):
    return f"{base(video)}master.m3u8?token={token}"


def lines(response):
    return response.get_data(as_text=True).splitlines()


def uris(response):
    return [line for line in lines(response) if line and not line.startswith("#")]


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


class TestSegments:
    @pytest.fixture
    def segment(self, video, token):
        return f"{base(video)}360p/00001.ts?token={token}"

    def test_a_segment_is_encrypted_bytes_with_a_strong_etag(
        self, client, ladder, segment, hls_clip
    ):
        response = get(client, segment)
        assert response.status_code == 200 and response.mimetype == "video/mp2t"
        assert response.headers["ETag"] == f'"{hashlib.sha256(response.data).hexdigest()}"'
        plain = hls_clip[1].plain("360p", 1)
        assert response.data != plain and len(response.data) == (len(plain) // 16 + 1) * 16
        cache = response.headers["Cache-Control"]
        assert cache.startswith("private, max-age=") and cache.endswith(", immutable")
        assert 0 < int(cache.split("max-age=")[1].split(",")[0]) <= 3 * 3600

    def test_ranges_conditionals_and_416_follow_the_media_route(self, client, ladder, segment):
        whole = get(client, segment).data
        size = len(whole)
        part = get(client, segment, Range="bytes=100-199")
        assert part.status_code == 206 and part.data == whole[100:200]
        assert part.headers["Content-Range"] == f"bytes 100-199/{size}"
        assert get(client, segment, Range="bytes=-5").data == whole[-5:]
        etag = part.headers["ETag"]
        assert get(client, segment, **{"If-None-Match": etag}).status_code == 304
        stale = get(client, segment, Range="bytes=0-1", **{"If-Range": '"stale"'})
        assert stale.status_code == 200 and stale.data == whole
        refused = get(client, segment, Range=f"bytes={size}-")
        assert_error(refused, 416, "range_not_satisfiable")
        assert refused.headers["Content-Range"] == f"bytes */{size}"

    def test_a_five_digit_name_and_a_plain_number_are_one_segment(
        self, client, video, ladder, token
    ):
        padded = get(client, f"{base(video)}240p/00001.ts?token={token}")
        assert get(client, f"{base(video)}240p/1.ts?token={token}").data == padded.data

    def test_a_refund_stops_the_next_segment(self, app, client, accounts, library, hls_clip):
        paid = library.ready_video(hls_clip[0], access="paid", price=PRICE)
        hls_ladders.store(app, paid["id"], hls_clip[1])
        viewer = accounts.user_with_token()
        shop = Records(app)
        purchase = shop.buy(viewer["user"]["id"], "video", paid["id"])
        token = library.playback_token(paid["id"], viewer)
        segment = f"{base(paid)}240p/00000.ts?token={token}"
        assert get(client, segment).status_code == 200
        shop.refund(purchase)
        assert_error(get(client, segment), 403, "purchase_required")
        assert_error(get(client, master_url(paid, token)), 403, "purchase_required")


class TestKey:
    def key(self, client, video, token):
        return client.get(f"/video/{video['id']}/hls/key", query_string={"token": token})

    def test_the_key_is_sixteen_bytes_never_cached(self, client, video, ladder, token):
        response = self.key(client, video, token)
        assert response.status_code == 200
        assert response.data == ladder.key and len(response.data) == 16
        assert response.mimetype == "application/octet-stream"
        assert "no-store" in response.headers["Cache-Control"]

    def test_no_token_is_400(self, client, video, ladder):
        assert_error(client.get(f"/video/{video['id']}/hls/key"), 400, "missing_token")

    def test_another_videos_token_is_403(
        self, app, client, library, video, ladder, viewer, hls_clip
    ):
        other = library.ready_video(hls_clip[0])
        hls_ladders.store(app, other["id"], hls_clip[1])
        stolen = library.playback_token(video["id"], viewer)
        assert_error(self.key(client, other, stolen), 403, "token_wrong_video")

    def test_an_expired_token_is_401(self, app, client, video, token):
        assert_error(self.key(client, video, expired_copy(app, token)), 401, "token_expired")

    def test_a_forged_or_access_token_is_401(self, client, video, token, viewer):
        header, payload, _ = token.split(".")
        forged = f"{header}.{payload}.AAAA"
        assert_error(self.key(client, video, forged), 401, "invalid_token")
        assert_error(self.key(client, video, viewer["token"]), 401, "invalid_token")

    def test_logout_stops_the_key_and_every_segment(self, client, accounts, video, viewer, token):
        assert self.key(client, video, token).status_code == 200
        client.post("/auth/logout", headers=accounts.bearer(viewer))
        assert_error(self.key(client, video, token), 401, "session_revoked")
        segment = get(client, f"{base(video)}240p/00000.ts?token={token}")
        assert_error(segment, 401, "session_revoked")

    def test_an_ended_subscription_stops_the_key(self, app, client, accounts, library, hls_clip):
        shop = Records(app)
        creator_id = library.owner["user"]["id"]
        shop.plan(creator_id)
        members = library.ready_video(hls_clip[0], access="subscribers")
        hls_ladders.store(app, members["id"], hls_clip[1])
        viewer = accounts.user_with_token()
        subscription = shop.subscribe(viewer["user"]["id"], creator_id, utcnow() + timedelta(1))
        token = library.playback_token(members["id"], viewer)
        assert self.key(client, members, token).status_code == 200
        shop.end_subscription(subscription)
        assert_error(self.key(client, members, token), 403, "subscription_required")

    def test_the_key_is_in_no_reply_about_the_video(
        self, client, accounts, library, video, ladder, viewer, token
    ):
        owner = accounts.bearer(library.owner)
        replies = [
            client.get(f"/video/{video['id']}", headers=owner),
            client.get(f"/video/{video['id']}/status", headers=owner),
            client.get("/videos", headers=owner),
            client.get("/dashboard", headers=accounts.bearer(viewer)),
            client.get(
                f"/video/{video['id']}/stream",
                query_string={"token": token},
                headers=accounts.bearer(viewer),
            ),
            get(client, master_url(video, token)),
            get(client, f"{base(video)}360p/index.m3u8?token={token}"),
        ]
        for reply in replies:
            assert reply.status_code == 200, reply.get_data(as_text=True)
            assert ladder.key not in reply.data
            assert ladder.key.hex().encode() not in reply.data.lower()
            assert base64.b64encode(ladder.key).rstrip(b"=") not in reply.data


def test_hls_answers_carry_cors_for_browser_players(client, video, ladder, token):
    """hls.js fetches playlists, segments and the key with XHR from the page's origin."""
    origin = {"Origin": "https://player.example"}
    for path in ("master.m3u8", "240p/index.m3u8", "240p/00000.ts", "key"):
        response = get(client, f"{base(video)}{path}?token={token}", **origin)
        assert response.status_code == 200, path
        assert response.headers["Access-Control-Allow-Origin"] in ("*", origin["Origin"])
    preflight = client.options(
        f"/video/{video['id']}/hls/240p/00000.ts?token={token}",
        headers={
            **origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Range",
        },
    )
    assert "range" in preflight.headers["Access-Control-Allow-Headers"].lower()


def test_hls_is_limited_per_playback_token_not_per_address(
    make_app, backend, database_uri, hls_clip
):
    storage = database_uri if backend == "embedded" else "memory://"
    limited = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI=storage,
        RATELIMIT_DEFAULT="2 per minute",
        RATELIMIT_MEDIA="4 per minute",
    )
    client = limited.test_client()
    library = Library(limited, client, Accounts(client, limited))
    video = library.ready_video(hls_clip[0])
    hls_ladders.store(limited, video["id"], hls_clip[1])
    viewer = library.accounts.login(library.owner["user"]["email"])
    first, second = (library.playback_token(video["id"], viewer) for _ in range(2))
    segment = f"{base(video)}240p/00000.ts?token="
    # Four segment requests pass although the per-address default allows two a minute.
    assert [get(client, segment + first).status_code for _ in range(4)] == [200] * 4
    assert_error(get(client, segment + first), 429, "too_many_requests")
    assert get(client, segment + second).status_code == 200  # a budget of its own
