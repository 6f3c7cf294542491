"""Who gets a byte: playback tokens on /stream, /media and /thumbnail, views and limits.

docs/playback.md. On /media and /thumbnail the playback token is the only credential:
400 none, 401 invalid/expired/revoked, 403 another video. On /stream the access token
is the credential (401 only for it): a bad playback token there is 403 with a code
saying why. 404 unknown or deleted, 409 not ready. Both backends.
"""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from models import recent_view
from models import video as videos
from models.common import object_id
from models.db import get_db
from tests.support.accounts import Accounts, Library
from tests.support.errors import assert_error
from tests.support.tokens import expired_copy


@pytest.fixture
def video(library, multi_chunk_mp4):
    return library.ready_video(multi_chunk_mp4)


@pytest.fixture
def token(library, video, viewer):
    return library.playback_token(video["id"], viewer)


def media(client, video_id, token, **headers):
    return client.get(f"/video/{video_id}/media", query_string={"token": token}, headers=headers)


def views_of(app, video_id):
    with app.app_context():
        return get_db().videos.find_one({"_id": object_id(video_id)})["views"]


class TestPlaybackToken:
    def test_issues_a_token_and_an_absolute_media_url(self, client, accounts, video, viewer):
        response = client.post(
            f"/video/{video['id']}/playback-token",
            headers=accounts.bearer(viewer),
            base_url="https://api.example",
        )
        assert response.status_code == 200
        body = response.json
        url = urlsplit(body["stream_url"])
        assert (url.scheme, url.netloc, url.path) == (
            "https",
            "api.example",
            f"/video/{video['id']}/media",
        )
        assert parse_qs(url.query)["token"] == [body["playback_token"]]
        assert body["expires_at"].endswith("Z")

    def test_needs_the_access_token(self, client, video):
        assert_error(client.post(f"/video/{video['id']}/playback-token"), 401)

    def test_unknown_video_is_404(self, client, accounts, viewer):
        response = client.post(
            "/video/5f0000000000000000000000/playback-token", headers=accounts.bearer(viewer)
        )
        assert_error(response, 404, "video_not_found")

    def test_processing_video_is_409_for_its_owner(self, client, app, library, video):
        with app.app_context():
            videos.update(object_id(video["id"]), status=videos.PROCESSING)
        response = client.post(
            f"/video/{video['id']}/playback-token", headers=library.accounts.bearer(library.owner)
        )
        assert_error(response, 409, "video_not_ready")

    def test_someone_elses_private_video_is_404(self, client, accounts, library, multi_chunk_mp4):
        private = library.ready_video(multi_chunk_mp4, visibility="private")
        viewer = accounts.user_with_token()
        response = client.post(
            f"/video/{private['id']}/playback-token", headers=accounts.bearer(viewer)
        )
        assert_error(response, 404)


class TestStreamJson:
    def url(self, video):
        return f"/video/{video['id']}/stream"

    def test_what_the_app_reads(self, client, accounts, video, viewer, token):
        response = client.get(
            self.url(video), query_string={"token": token}, headers=accounts.bearer(viewer)
        )
        assert response.status_code == 200
        body = response.json
        assert body["video_id"] == video["id"]
        assert body["title"] == "Stored clip"
        assert body["mime_type"] == "video/mp4"
        assert body["expires_at"].endswith("Z")
        assert parse_qs(urlsplit(body["stream_url"]).query)["token"] == [token]
        assert urlsplit(body["thumbnail_url"]).path == f"/video/{video['id']}/thumbnail"
        assert client.get(body["stream_url"]).data == video["bytes"]

    def test_no_token_is_400(self, client, accounts, video, viewer):
        response = client.get(self.url(video), headers=accounts.bearer(viewer))
        assert_error(response, 400, "missing_token")

    def refused(self, client, accounts, video, bundle, token, code):
        """A bad playback token with a valid access token: 403 with ``code``, never a 401
        (the app signs out on any 401), and the caller stays signed in."""
        response = client.get(
            self.url(video), query_string={"token": token}, headers=accounts.bearer(bundle)
        )
        assert_error(response, 403, code)
        assert "WWW-Authenticate" not in response.headers
        assert client.get("/auth/me", headers=accounts.bearer(bundle)).status_code == 200
        return response.json

    @pytest.mark.parametrize("garbage", ["x.y.z", "not-a-jwt", "a" * 300])
    def test_garbage_token_is_403_invalid(self, client, accounts, video, viewer, garbage):
        self.refused(client, accounts, video, viewer, garbage, "playback_token_invalid")

    def test_forged_token_is_403_invalid(self, client, accounts, video, viewer, token):
        header, payload, _ = token.split(".")
        forged = f"{header}.{payload}.AAAA"
        self.refused(client, accounts, video, viewer, forged, "playback_token_invalid")

    def test_an_access_token_is_403_invalid(self, client, accounts, video, viewer):
        self.refused(client, accounts, video, viewer, viewer["token"], "playback_token_invalid")

    def test_expired_token_is_403_expired(self, client, app, accounts, video, viewer, token):
        expired = expired_copy(app, token)
        body = self.refused(client, accounts, video, viewer, expired, "playback_token_expired")
        assert "expired" in body["error"]

    def test_another_users_token_is_403(self, client, accounts, video, token):
        someone = accounts.user_with_token()
        self.refused(client, accounts, video, someone, token, "playback_token_wrong_user")

    def test_token_for_another_video_is_403(
        self, client, accounts, library, video, viewer, multi_chunk_mp4
    ):
        other = library.ready_video(multi_chunk_mp4)
        other_token = library.playback_token(other["id"], viewer)
        self.refused(client, accounts, video, viewer, other_token, "playback_token_wrong_video")

    def test_a_token_from_an_ended_session_is_403_revoked(
        self, client, accounts, video, viewer, token
    ):
        """Same user, a second login: the first session's playback token dies with it, and
        the second session, whose access token is fine, stays signed in."""
        second = accounts.login(viewer["user"]["email"])
        client.post("/auth/logout", headers=accounts.bearer(viewer))
        self.refused(client, accounts, video, second, token, "playback_token_revoked")

    def test_a_token_from_another_live_session_of_the_same_user_plays(
        self, client, accounts, video, viewer, token
    ):
        second = accounts.login(viewer["user"]["email"])
        response = client.get(
            self.url(video), query_string={"token": token}, headers=accounts.bearer(second)
        )
        assert response.status_code == 200

    def test_deleted_video_is_404(self, client, accounts, library, video, viewer, token):
        owner = accounts.bearer(library.owner)
        assert client.delete(f"/video/{video['id']}", headers=owner).status_code == 200
        response = client.get(
            self.url(video), query_string={"token": token}, headers=accounts.bearer(viewer)
        )
        assert_error(response, 404, "video_not_found")

    def test_needs_the_access_token_too(self, client, video, token):
        assert_error(client.get(self.url(video), query_string={"token": token}), 401)

    def test_an_ended_access_session_is_401_whatever_the_playback_token(
        self, client, accounts, video, viewer, token
    ):
        client.post("/auth/logout", headers=accounts.bearer(viewer))
        response = client.get(
            self.url(video), query_string={"token": token}, headers=accounts.bearer(viewer)
        )
        assert_error(response, 401, "session_revoked")


class TestMediaTokens:
    def test_no_token_is_400(self, client, video):
        assert_error(client.get(f"/video/{video['id']}/media"), 400, "missing_token")

    def test_an_upper_case_id_is_the_same_video(self, client, accounts, video, token, viewer):
        upper = video["id"].upper()
        assert media(client, upper, token).status_code == 200
        assert client.get(f"/video/{upper}/thumbnail?token={token}").status_code == 200
        stream = client.get(f"/video/{upper}/stream?token={token}", headers=accounts.bearer(viewer))
        assert stream.status_code == 200

    @pytest.mark.parametrize("path", ["/video/nope", "/video/nope/media?token=x"])
    def test_a_malformed_id_is_a_json_404(self, client, path):
        assert_error(client.get(path), 404, "not_found")

    def test_forged_token_is_401(self, client, video, token):
        header, payload, _ = token.split(".")
        assert_error(media(client, video["id"], f"{header}.{payload}.AAAA"), 401, "invalid_token")

    def test_expired_token_is_401(self, client, app, video, token):
        assert_error(media(client, video["id"], expired_copy(app, token)), 401, "token_expired")

    def test_access_token_is_not_a_playback_token(self, client, video, viewer):
        assert_error(media(client, video["id"], viewer["token"]), 401, "invalid_token")

    def test_token_for_another_video_is_403(self, client, library, video, viewer, multi_chunk_mp4):
        other = library.ready_video(multi_chunk_mp4)
        response = media(client, other["id"], library.playback_token(video["id"], viewer))
        assert_error(response, 403, "token_wrong_video")

    def test_logout_stops_media_and_thumbnail_at_once(self, client, accounts, video, viewer, token):
        assert media(client, video["id"], token).status_code == 200
        client.post("/auth/logout", headers=accounts.bearer(viewer))
        assert_error(media(client, video["id"], token), 401, "session_revoked")
        thumbnail = client.get(f"/video/{video['id']}/thumbnail", query_string={"token": token})
        assert_error(thumbnail, 401, "session_revoked")

    def test_soft_deleted_video_is_404_and_restored_plays_again(
        self, client, accounts, library, video, token
    ):
        admin = accounts.bearer(accounts.user_with_token("admin"))
        client.delete(f"/video/{video['id']}", headers=accounts.bearer(library.owner))
        assert_error(media(client, video["id"], token), 404, "video_not_found")
        client.post(f"/video/{video['id']}/restore", headers=admin)
        assert media(client, video["id"], token).status_code == 200

    def test_purged_video_is_404(self, client, accounts, video, token):
        admin = accounts.bearer(accounts.user_with_token("admin"))
        client.delete(f"/video/{video['id']}?purge=true", headers=admin)
        assert_error(media(client, video["id"], token), 404)

    def test_video_made_private_stops_other_viewers(self, client, library, video, token):
        owner = library.accounts.bearer(library.owner)
        client.patch(f"/video/{video['id']}", json={"visibility": "private"}, headers=owner)
        assert_error(media(client, video["id"], token), 404)

    def test_audio_has_no_thumbnail(self, client, app, video, token):
        with app.app_context():
            videos.update(object_id(video["id"]), thumbnail_file_id=None)
        response = client.get(f"/video/{video['id']}/thumbnail", query_string={"token": token})
        assert_error(response, 404, "thumbnail_not_found")

    def test_extra_query_parameters_are_ignored(self, client, video, token):
        response = client.get(f"/video/{video['id']}/media?token={token}&_=1700000000")
        assert response.status_code == 200


class Clock:
    """Moves the clock that view windows are measured by (models.recent_view.utcnow)."""

    def __init__(self, monkeypatch):
        self.offset = timedelta(0)
        real = recent_view.utcnow
        monkeypatch.setattr(recent_view, "utcnow", lambda: real() + self.offset)

    def advance(self, **amount):
        self.offset += timedelta(**amount)


def play_one_byte(client, video_id, token):
    assert media(client, video_id, token, Range="bytes=0-0").status_code == 206


class TestViews:
    def test_a_playback_session_counts_once_whatever_its_ranges(
        self, client, library, video, token
    ):
        for header in ("bytes=0-1", "bytes=0-", "bytes=900000-", None):
            media(client, video["id"], token, **({"Range": header} if header else {}))
        assert views_of(library.app, video["id"]) == 1

    def test_thirty_new_tokens_of_one_user_count_one_view(
        self, client, accounts, library, video, viewer
    ):
        # The attack: a fresh playback token and one byte, again and again.
        for _ in range(30):
            play_one_byte(client, video["id"], library.playback_token(video["id"], viewer))
        assert views_of(library.app, video["id"]) == 1
        someone_else = accounts.user_with_token("viewer")
        play_one_byte(client, video["id"], library.playback_token(video["id"], someone_else))
        assert views_of(library.app, video["id"]) == 2

    def test_a_user_counts_again_thirty_minutes_after_the_last_counted_view(
        self, client, library, video, viewer, token, monkeypatch
    ):
        clock = Clock(monkeypatch)
        play_one_byte(client, video["id"], token)
        clock.advance(minutes=29, seconds=59)  # across any half-hour boundary, still too soon
        play_one_byte(client, video["id"], library.playback_token(video["id"], viewer))
        assert views_of(library.app, video["id"]) == 1
        clock.advance(seconds=1)  # 30 minutes after the counted view
        play_one_byte(client, video["id"], library.playback_token(video["id"], viewer))
        assert views_of(library.app, video["id"]) == 2

    def test_one_token_never_counts_twice(self, client, library, video, token, monkeypatch):
        clock = Clock(monkeypatch)
        play_one_byte(client, video["id"], token)
        clock.advance(hours=2)
        play_one_byte(client, video["id"], token)  # the same session, still playing
        assert views_of(library.app, video["id"]) == 1

    def test_head_and_refused_requests_are_not_views(self, client, library, video, token):
        client.head(f"/video/{video['id']}/media", query_string={"token": token})
        media(client, video["id"], "not-a-token")
        assert views_of(library.app, video["id"]) == 0


class TestMediaRateLimit:
    @pytest.fixture
    def limited(self, make_app, backend, database_uri):
        storage = database_uri if backend == "embedded" else "memory://"
        return make_app(
            RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI=storage,
            RATELIMIT_DEFAULT="2 per minute",
            RATELIMIT_MEDIA="5 per minute",
        )

    def test_limited_per_token_not_per_ip(self, limited, multi_chunk_mp4):
        client = limited.test_client()
        library = Library(limited, client, Accounts(client, limited))
        video = library.ready_video(multi_chunk_mp4)
        viewer = library.accounts.login(library.owner["user"]["email"])
        first, second = (library.playback_token(video["id"], viewer) for _ in range(2))
        # Five media requests pass although the per-IP default allows two a minute.
        statuses = [media(client, video["id"], first, Range="bytes=0-1").status_code]
        statuses += [media(client, video["id"], first).status_code for _ in range(4)]
        assert statuses == [206, 200, 200, 200, 200]
        assert_error(media(client, video["id"], first), 429, "too_many_requests")
        assert media(client, video["id"], second).status_code == 200  # its own budget

    def test_a_variant_of_a_token_shares_its_budget(self, limited, multi_chunk_mp4):
        client = limited.test_client()
        library = Library(limited, client, Accounts(client, limited))
        video = library.ready_video(multi_chunk_mp4)
        token = library.playback_token(video["id"], library.owner)
        # PyJWT decodes the token with padding appended: the same token in another text.
        statuses = [media(client, video["id"], token + "=" * (n % 2)).status_code for n in range(5)]
        assert statuses == [200] * 5
        assert_error(media(client, video["id"], token + "="), 429, "too_many_requests")
        assert_error(media(client, video["id"], token), 429, "too_many_requests")

    def test_tokens_that_do_not_verify_share_one_budget_per_address(self, limited, multi_chunk_mp4):
        client = limited.test_client()
        library = Library(limited, client, Accounts(client, limited))
        video = library.ready_video(multi_chunk_mp4)
        statuses = [media(client, video["id"], f"junk-{n}").status_code for n in range(5)]
        assert statuses == [401] * 5
        assert_error(media(client, video["id"], "junk-6"), 429, "too_many_requests")
        token = library.playback_token(video["id"], library.owner)
        assert media(client, video["id"], token).status_code == 200  # a real one has its own
