"""Catalogue, dashboard and the management routes (docs/videos.md)."""

from urllib.parse import parse_qs, urlsplit

import pytest

from models.db import get_db
from services import tokens
from tests.support.errors import assert_error
from tests.support.uploads import gridfs_counts, upload, wait_until_processed


@pytest.fixture
def creator(accounts):
    return accounts.user_with_token("creator")


@pytest.fixture
def ready_video(client, accounts, creator, media):
    def make(**fields):
        fields.setdefault("category", "music")
        response = upload(client, accounts.bearer(creator), media["h264"], **fields)
        video = wait_until_processed(client, accounts.bearer(creator), response.json["video"]["id"])
        assert video["status"] == "ready"
        return video

    return make


def test_dashboard_is_what_the_app_reads(client, app, accounts, creator, ready_video):
    first, second = ready_video(title="First"), ready_video(title="Second")
    viewer = accounts.user_with_token()
    response = client.get(
        "/dashboard", headers=accounts.bearer(viewer), base_url="http://api.example:5000"
    )
    assert response.status_code == 200
    body = response.json
    assert [item["id"] for item in body["videos"]] == [second["id"], first["id"]]
    assert body["pagination"] == {"per_page": 20, "next_cursor": None, "has_more": False}
    item = body["videos"][0]
    for key in (
        "id",
        "title",
        "description",
        "thumbnail_url",
        "playback_token",
        "duration",
        "created_at",
        "creator",
        "views",
    ):
        assert key in item
    assert item["creator"] == {"id": creator["user"]["id"], "name": creator["user"]["name"]}
    url = urlsplit(item["thumbnail_url"])
    assert (url.scheme, url.netloc, url.path) == (
        "http",
        "api.example:5000",
        f"/video/{item['id']}/thumbnail",
    )
    assert parse_qs(url.query)["token"] == [item["playback_token"]]
    with app.app_context():
        claims = tokens.decode(item["playback_token"], tokens.PLAYBACK)
    assert (claims["vid"], claims["sub"]) == (item["id"], viewer["user"]["id"])


def test_urls_follow_the_proxy_and_public_base_url(make_app, accounts, ready_video):
    ready_video()
    viewer = accounts.bearer(accounts.user_with_token())
    behind_proxy = make_app(TRUSTED_PROXY_COUNT=1).test_client()
    proxied = behind_proxy.get(
        "/dashboard",
        headers={**viewer, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "videos.example.com"},
    )
    assert proxied.json["videos"][0]["thumbnail_url"].startswith(
        "https://videos.example.com/video/"
    )
    fixed = make_app(PUBLIC_BASE_URL="https://cdn.example.org/api").test_client()
    item = fixed.get("/dashboard", headers=viewer).json["videos"][0]
    assert item["thumbnail_url"].startswith("https://cdn.example.org/api/video/")


def test_forwarded_headers_from_a_client_with_no_proxy_in_front_are_ignored(
    client, accounts, ready_video
):
    """TRUSTED_PROXY_COUNT=0 (the default): the host the client really called decides."""
    video = ready_video()
    viewer = accounts.user_with_token()
    forged = {
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Prefix": "/phish",
    }
    headers = {**accounts.bearer(viewer), **forged}
    item = client.get("/dashboard", headers=headers).json["videos"][0]
    assert item["thumbnail_url"].startswith("http://localhost/video/")
    token = item["playback_token"]
    stream = client.get(f"/video/{video['id']}/stream?token={token}", headers=headers).json
    assert stream["stream_url"].startswith(f"http://localhost/video/{video['id']}/media?")


def test_production_without_public_base_url_warns(make_app, capfd):
    """The JSON log lines go to stderr (web/logs.py), hence capfd."""
    secrets = {name: name.lower() * 4 for name in ("SECRET_KEY", "JWT_SECRET_KEY")}
    secrets["PLAYBACK_SECRET_KEY"] = "playback-" * 5
    make_app(APP_ENV="production", BCRYPT_ROUNDS=12, TESTING=True, **secrets)
    assert "PUBLIC_BASE_URL is not set" in capfd.readouterr().err
    make_app(
        APP_ENV="production",
        BCRYPT_ROUNDS=12,
        TESTING=True,
        PUBLIC_BASE_URL="https://videos.example.com",
        **secrets,
    )
    assert "PUBLIC_BASE_URL" not in capfd.readouterr().err


def test_dashboard_pagination(client, accounts, ready_video):
    for index in range(3):
        ready_video(title=f"v{index}")
    viewer = accounts.bearer(accounts.user_with_token())
    first = client.get("/dashboard?per_page=2", headers=viewer).json
    assert first["pagination"]["has_more"] is True
    cursor = first["pagination"]["next_cursor"]
    page = client.get(f"/dashboard?per_page=2&cursor={cursor}", headers=viewer).json
    assert [video["title"] for video in first["videos"] + page["videos"]] == ["v2", "v1", "v0"]
    assert page["pagination"] == {"per_page": 2, "next_cursor": None, "has_more": False}
    assert_error(client.get("/dashboard?per_page=500", headers=viewer), 400)


def test_catalogue_hides_private_processing_and_filters(client, accounts, creator, ready_video):
    public = ready_video(title="Cats on a piano")
    ready_video(title="Secret", visibility="private")
    ready_video(title="Dogs", category="pets")
    viewer = accounts.bearer(accounts.user_with_token())
    titles = [v["title"] for v in client.get("/videos", headers=viewer).json["videos"]]
    assert sorted(titles) == ["Cats on a piano", "Dogs"]
    found = client.get("/videos?q=PIANO", headers=viewer).json["videos"]
    assert [v["id"] for v in found] == [public["id"]]
    assert [
        v["title"] for v in client.get("/videos?category=pets", headers=viewer).json["videos"]
    ] == ["Dogs"]
    mine = client.get(f"/videos?creator={creator['user']['id']}", headers=viewer).json
    assert sorted(video["title"] for video in mine["videos"]) == ["Cats on a piano", "Dogs"]
    assert client.get("/videos?q=.*", headers=viewer).json["videos"] == []  # regex is escaped
    assert_error(client.get("/videos?q[$ne]=x", headers=viewer), 400)


def test_private_video_is_404_to_others_and_visible_to_its_owner(
    client, accounts, creator, ready_video
):
    private = ready_video(visibility="private")
    viewer = accounts.bearer(accounts.user_with_token())
    assert_error(client.get(f"/video/{private['id']}", headers=viewer), 404)
    assert (
        client.get(f"/video/{private['id']}", headers=accounts.bearer(creator)).status_code == 200
    )


def test_owner_edits_and_others_cannot(client, accounts, creator, ready_video):
    video = ready_video()
    path = f"/video/{video['id']}"
    edited = client.patch(
        path, json={"title": "New title", "tags": ["x"]}, headers=accounts.bearer(creator)
    )
    assert edited.status_code == 200
    assert (edited.json["video"]["title"], edited.json["video"]["tags"]) == ("New title", ["x"])
    other = accounts.bearer(accounts.user_with_token("creator"))
    assert_error(client.patch(path, json={"title": "Mine now"}, headers=other), 403)
    assert_error(
        client.patch(path, json={"status": "ready"}, headers=accounts.bearer(creator)), 400
    )
    admin = accounts.bearer(accounts.user_with_token("admin"))
    assert client.patch(path, json={"visibility": "unlisted"}, headers=admin).status_code == 200


def test_soft_delete_hides_everywhere_and_admin_restores(client, accounts, creator, ready_video):
    video = ready_video()
    viewer = accounts.bearer(accounts.user_with_token())
    owner = accounts.bearer(creator)
    assert client.delete(f"/video/{video['id']}", headers=owner).status_code == 200
    assert client.get("/dashboard", headers=viewer).json["videos"] == []
    assert client.get("/videos", headers=viewer).json["videos"] == []
    assert_error(client.get(f"/video/{video['id']}", headers=owner), 404)
    assert_error(client.get(f"/video/{video['id']}/status", headers=owner), 404)
    assert_error(client.post(f"/video/{video['id']}/restore", headers=owner), 403)
    admin = accounts.bearer(accounts.user_with_token("admin"))
    restored = client.post(f"/video/{video['id']}/restore", headers=admin)
    assert restored.status_code == 200 and restored.json["video"]["id"] == video["id"]
    assert len(client.get("/dashboard", headers=viewer).json["videos"]) == 1


def test_purge_removes_the_chunks(client, app, accounts, creator, ready_video):
    video = ready_video()
    assert gridfs_counts(app)[1] > 0
    assert_error(
        client.delete(f"/video/{video['id']}?purge=true", headers=accounts.bearer(creator)), 403
    )
    admin = accounts.bearer(accounts.user_with_token("admin"))
    assert client.delete(f"/video/{video['id']}?purge=true", headers=admin).status_code == 200
    assert gridfs_counts(app) == (0, 0)
    with app.app_context():
        assert get_db().videos.count_documents({}) == 0


@pytest.mark.parametrize("creator", ["z" * 24, "nope", '{"$ne": null}'])
def test_a_creator_that_is_not_an_id_is_400(client, accounts, creator):
    viewer = accounts.bearer(accounts.user_with_token())
    response = client.get("/videos", query_string={"creator": creator}, headers=viewer)
    assert assert_error(response, 400)["details"] == {"creator": ["Not a valid id."]}


@pytest.mark.parametrize("video_id", ["5f0000000000000000000002", "nope"])
def test_unknown_video_is_404(client, accounts, video_id):
    viewer = accounts.bearer(accounts.user_with_token())
    assert_error(client.get(f"/video/{video_id}", headers=viewer), 404)
