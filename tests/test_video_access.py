"""Who reaches which video: share keys, 404 for the hidden, roles for managing (docs/videos.md).

An unlisted video opens only with its share key (ids are guessable: ObjectIds are
sequential); what a caller may not see answers 404 like an unknown id, whatever the method;
what it may see but not change is 403. Both backends.
"""

import pytest
from bson import ObjectId

from models import video as videos
from models.db import get_db
from tests.support.errors import assert_error


@pytest.fixture
def unlisted(library, multi_chunk_mp4):
    return library.ready_video(multi_chunk_mp4, visibility="unlisted")


@pytest.fixture
def owner(library):
    return library.accounts.bearer(library.owner)


@pytest.fixture
def stranger(accounts):
    return accounts.bearer(accounts.user_with_token("creator"))


def share_key_of(client, video_id, headers):
    response = client.get(f"/video/{video_id}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json["video"]["share_key"]


def unknown_id_answer(client, method, path, headers, **kwargs):
    response = client.open(path, method=method, headers=headers, **kwargs)
    return response.status_code, response.json["code"]


class TestUnlisted:
    def test_an_id_alone_opens_nothing(self, client, unlisted, stranger):
        video_id = unlisted["id"]
        for path in (f"/video/{video_id}", f"/video/{video_id}/status"):
            assert_error(client.get(path, headers=stranger), 404, "video_not_found")
        response = client.post(f"/video/{video_id}/playback-token", headers=stranger)
        assert_error(response, 404, "video_not_found")

    def test_a_guessed_neighbouring_id_finds_nothing(self, client, library, unlisted, stranger):
        # The attack: ObjectIds are sequential, so ids near a fresh one are guessable.
        fresh = ObjectId()
        with library.app.app_context():
            neighbours = list(get_db().videos.find({"_id": {"$lt": fresh}}, {"_id": 1}))
        assert [str(found["_id"]) for found in neighbours] == [unlisted["id"]]
        for found in neighbours:
            path = f"/video/{found['_id']}/playback-token"
            assert_error(client.post(path, headers=stranger), 404)

    def test_the_owner_sees_the_key_and_others_play_with_it(
        self, client, unlisted, owner, stranger
    ):
        key = share_key_of(client, unlisted["id"], owner)
        assert len(key) >= 22  # 16 random bytes, URL-safe base64
        seen = client.get(f"/video/{unlisted['id']}", query_string={"key": key}, headers=stranger)
        assert seen.status_code == 200
        assert "share_key" not in seen.json["video"]  # only the owner and admins hand it out
        issued = client.post(
            f"/video/{unlisted['id']}/playback-token", query_string={"key": key}, headers=stranger
        )
        assert issued.status_code == 200
        token = issued.json["playback_token"]
        media = client.get(f"/video/{unlisted['id']}/media?token={token}")
        assert media.status_code == 200 and media.data == unlisted["bytes"]
        thumbnail = client.get(f"/video/{unlisted['id']}/thumbnail?token={token}")
        assert thumbnail.status_code == 200
        # /stream: the token carries the key it was issued with; ?key= works as well.
        stream = f"/video/{unlisted['id']}/stream"
        assert (
            client.get(stream, query_string={"token": token}, headers=stranger).status_code == 200
        )
        with_key = client.get(stream, query_string={"token": token, "key": key}, headers=stranger)
        assert with_key.status_code == 200

    def test_a_wrong_key_is_404(self, client, unlisted, owner, stranger):
        key = share_key_of(client, unlisted["id"], owner)
        for wrong in (key[:-1] + ("A" if key[-1] != "A" else "B"), key[:-1], "x"):
            response = client.get(
                f"/video/{unlisted['id']}", query_string={"key": wrong}, headers=stranger
            )
            assert_error(response, 404, "video_not_found")

    def test_the_key_of_one_video_opens_no_other(
        self, client, library, multi_chunk_mp4, unlisted, owner, stranger
    ):
        other = library.ready_video(multi_chunk_mp4, visibility="unlisted")
        key = share_key_of(client, unlisted["id"], owner)
        response = client.get(f"/video/{other['id']}", query_string={"key": key}, headers=stranger)
        assert_error(response, 404)

    def test_a_token_from_the_public_days_stops_when_the_video_becomes_unlisted(
        self, client, library, multi_chunk_mp4, owner, stranger
    ):
        video = library.ready_video(multi_chunk_mp4)
        token = client.post(f"/video/{video['id']}/playback-token", headers=stranger).json[
            "playback_token"
        ]
        client.patch(f"/video/{video['id']}", json={"visibility": "unlisted"}, headers=owner)
        assert_error(client.get(f"/video/{video['id']}/media?token={token}"), 404)

    def test_a_new_key_stops_the_old_one_and_its_tokens(self, client, unlisted, owner, stranger):
        old = share_key_of(client, unlisted["id"], owner)
        token = client.post(
            f"/video/{unlisted['id']}/playback-token", query_string={"key": old}, headers=stranger
        ).json["playback_token"]
        assert_error(client.post(f"/video/{unlisted['id']}/share-key", headers=stranger), 404)
        renewed = client.post(f"/video/{unlisted['id']}/share-key", headers=owner)
        assert renewed.status_code == 200
        new = renewed.json["video"]["share_key"]
        assert new != old
        path = f"/video/{unlisted['id']}"
        assert_error(client.get(path, query_string={"key": old}, headers=stranger), 404)
        assert_error(client.get(f"{path}/media?token={token}"), 404)
        assert client.get(path, query_string={"key": new}, headers=stranger).status_code == 200

    def test_catalogue_and_dashboard_never_show_a_key(self, client, library, multi_chunk_mp4):
        library.ready_video(multi_chunk_mp4)
        for headers in (library.accounts.bearer(library.owner), None):
            headers = headers or library.accounts.bearer(library.accounts.user_with_token())
            for path in ("/videos", "/dashboard"):
                listed = client.get(path, headers=headers).json["videos"]
                assert len(listed) == 1 and "share_key" not in listed[0]


class TestHiddenIsNotFound:
    @pytest.mark.parametrize("visibility", ["private", "unlisted"])
    def test_every_method_answers_like_an_unknown_id(
        self, client, library, multi_chunk_mp4, stranger, visibility
    ):
        hidden = library.ready_video(multi_chunk_mp4, visibility=visibility)
        unknown = str(ObjectId())
        calls = [
            ("PATCH", "", {"json": {"title": "Mine now"}}),
            ("DELETE", "", {}),
            ("POST", "/share-key", {}),
            ("GET", "", {}),
            ("GET", "/status", {}),
            ("POST", "/playback-token", {}),
        ]
        for method, suffix, kwargs in calls:
            answer = unknown_id_answer(
                client, method, f"/video/{hidden['id']}{suffix}", stranger, **kwargs
            )
            expected = unknown_id_answer(
                client, method, f"/video/{unknown}{suffix}", stranger, **kwargs
            )
            assert answer == expected == (404, "video_not_found"), (method, suffix)

    def test_a_visible_video_of_another_creator_is_403(
        self, client, library, multi_chunk_mp4, stranger
    ):
        public = library.ready_video(multi_chunk_mp4)
        response = client.patch(f"/video/{public['id']}", json={"title": "x"}, headers=stranger)
        assert_error(response, 403, "not_owner")
        assert_error(client.delete(f"/video/{public['id']}", headers=stranger), 403, "not_owner")


class TestDemotedCreator:
    @pytest.fixture
    def demoted(self, client, accounts, library):
        admin = accounts.bearer(accounts.user_with_token("admin"))
        path = f"/admin/users/{library.owner['user']['id']}/role"
        assert client.patch(path, json={"role": "viewer"}, headers=admin).status_code == 200
        return accounts.bearer(library.owner)

    def test_keeps_and_sees_its_videos_but_cannot_change_them(
        self, client, library, multi_chunk_mp4, demoted
    ):
        private = library.ready_video(multi_chunk_mp4, visibility="private")
        path = f"/video/{private['id']}"
        for method, kwargs in (("PATCH", {"json": {"title": "x"}}), ("DELETE", {})):
            response = client.open(path, method=method, headers=demoted, **kwargs)
            assert_error(response, 403, "insufficient_role")
        seen = client.get(path, headers=demoted)
        assert seen.status_code == 200 and "share_key" in seen.json["video"]
        assert_error(client.post(f"{path}/share-key", headers=demoted), 403, "insufficient_role")
        with library.app.app_context():
            stored = videos.find(private["id"])
        assert (stored["title"], stored["deleted_at"]) == ("Stored clip", None)

    def test_promoted_again_manages_them_again(
        self, client, accounts, library, multi_chunk_mp4, demoted
    ):
        video = library.ready_video(multi_chunk_mp4)
        admin = accounts.bearer(accounts.user_with_token("admin"))
        path = f"/admin/users/{library.owner['user']['id']}/role"
        assert client.patch(path, json={"role": "creator"}, headers=admin).status_code == 200
        edited = client.patch(f"/video/{video['id']}", json={"title": "Back"}, headers=demoted)
        assert edited.status_code == 200


class TestShareKeyMigration:
    def test_videos_without_a_key_get_one_once(self, app, library, multi_chunk_mp4):
        first = library.ready_video(multi_chunk_mp4)
        second = library.ready_video(multi_chunk_mp4)
        with app.app_context():
            database = get_db()
            database.videos.update_many({}, {"$unset": {"share_key": ""}})
            database.migrations.delete_many({})
            videos.add_missing_share_keys(database)
            keys = {str(v["_id"]): v["share_key"] for v in database.videos.find()}
            videos.add_missing_share_keys(database)  # done: one read of the marker
            database.migrations.delete_many({})
            videos.add_missing_share_keys(database)  # even without it: keys stay as they are
            again = {str(v["_id"]): v["share_key"] for v in database.videos.find()}
        assert set(keys) == {first["id"], second["id"]}
        assert all(len(key) >= 22 for key in keys.values()) and len(set(keys.values())) == 2
        assert again == keys
