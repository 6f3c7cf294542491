"""The HLS routes (docs/playback.md#hls): encrypted segments, the key, CORS and rate limits.

The playback token is the only credential of every HLS route, with the media route's
refusals: 400 none, 401 invalid, expired or revoked, 403 another video or no longer allowed.
Fixtures (a real ladder for a ready video): tests/hls/conftest.py. Both backends.
"""

import base64
import hashlib
from datetime import timedelta

import pytest

from models.common import utcnow
from tests.support import hls_ladders
from tests.support.accounts import Accounts, Library
from tests.support.errors import assert_error
from tests.support.hls_requests import base, get, master_url
from tests.support.records import PRICE, Records
from tests.support.tokens import expired_copy


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
