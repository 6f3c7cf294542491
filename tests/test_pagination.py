"""Keyset pagination of every list: catalogue, dashboard, admin users (docs/conventions.md).

Documents are written straight into the database, with creation times spread over years,
bursts, and many sharing one millisecond, so walking the pages exercises the time windows
(models.keyset) on both backends: every item once, newest first, nothing skipped.
"""

from datetime import timedelta

import pytest
from bson import ObjectId

from models import video as videos
from models.common import utcnow
from models.db import get_db
from tests.support.catalogue import catalogue_documents, insert_videos, walk
from tests.support.errors import assert_error


@pytest.fixture
def creator(accounts):
    return accounts.user_with_token("creator")


@pytest.fixture
def catalogue(app, creator):
    documents = catalogue_documents(ObjectId(creator["user"]["id"]), 130)
    return insert_videos(app, documents)


@pytest.mark.parametrize("route", ["/videos", "/dashboard"])
def test_walking_every_page_gives_every_video_once_newest_first(client, accounts, catalogue, route):
    viewer = accounts.bearer(accounts.user_with_token())
    items, pages = walk(client, route, viewer, per_page=7)
    assert [item["id"] for item in items] == [str(doc["_id"]) for doc in catalogue]
    assert len(pages) == -(-len(catalogue) // 7)


def test_a_filtered_list_walks_the_same_way(client, accounts, catalogue, creator):
    viewer = accounts.bearer(accounts.user_with_token())
    path = f"/videos?category=news&creator={creator['user']['id']}"
    items, _ = walk(client, path, viewer, per_page=4)
    expected = [str(d["_id"]) for d in catalogue if d["category"] == "news"]
    assert [item["id"] for item in items] == expected


def test_videos_added_while_paging_neither_repeat_nor_push_items_out(
    app, client, accounts, catalogue, creator
):
    viewer = accounts.bearer(accounts.user_with_token())
    first = client.get("/videos?per_page=10", headers=viewer).json
    newer = catalogue_documents(ObjectId(creator["user"]["id"]), 45, seed=8)
    insert_videos(app, [{**doc, "created_at": utcnow()} for doc in newer[:5]])
    cursor = first["pagination"]["next_cursor"]
    second = client.get(f"/videos?per_page=10&cursor={cursor}", headers=viewer).json
    ids = [item["id"] for item in first["videos"] + second["videos"]]
    assert ids == [str(doc["_id"]) for doc in catalogue[:20]]


def test_the_last_page_says_so(client, accounts, catalogue):
    viewer = accounts.bearer(accounts.user_with_token())
    cursor = cursor_of(client, "/videos?per_page=100", viewer)
    body = client.get(f"/videos?per_page=100&cursor={cursor}", headers=viewer).json
    assert len(body["videos"]) == len(catalogue) - 100
    assert body["pagination"] == {"per_page": 100, "next_cursor": None, "has_more": False}


def test_an_empty_list_has_no_cursor(client, accounts):
    viewer = accounts.bearer(accounts.user_with_token())
    body = client.get("/dashboard", headers=viewer).json
    assert body == {
        "videos": [],
        "pagination": {"per_page": 20, "next_cursor": None, "has_more": False},
    }


def cursor_of(client, path, headers):
    body = client.get(path, headers=headers).json
    assert body["pagination"]["has_more"]
    return body["pagination"]["next_cursor"]


def test_tampered_and_foreign_cursors_are_400(client, accounts, catalogue):
    viewer = accounts.bearer(accounts.user_with_token())
    cursor = cursor_of(client, "/videos?per_page=3", viewer)
    payload, _, signature = cursor.rpartition(".")
    edited = payload[:-2] + ("AA" if payload[-2:] != "AA" else "AB") + "." + signature
    from_dashboard = cursor_of(client, "/dashboard?per_page=3", viewer)
    from_music = cursor_of(client, "/videos?per_page=3&category=music", viewer)
    for path in (
        f"/videos?cursor={edited}",
        f"/videos?cursor={from_dashboard}",
        f"/videos?category=news&cursor={from_music}",
        f"/videos?q=clip&cursor={cursor}",
        f"/dashboard?cursor={cursor}",
        "/videos?cursor=not-a-cursor",
    ):
        response = client.get(path, headers=viewer)
        assert_error(response, 400, "invalid_cursor")
        assert "cursor" in response.json["details"]
    assert client.get(f"/videos?per_page=3&cursor={cursor}", headers=viewer).status_code == 200


def test_page_numbers_are_gone(client, accounts):
    viewer = accounts.bearer(accounts.user_with_token())
    assert_error(client.get("/videos?page=2", headers=viewer), 400)
    assert_error(client.get("/dashboard?per_page=101", headers=viewer), 400)
    assert_error(client.get("/dashboard?per_page=0", headers=viewer), 400)


def test_admin_users_walk_newest_first(app, client, accounts):
    admin = accounts.bearer(accounts.login("admin@test.example", "admin-test-password"))
    now = utcnow()
    people = [
        {
            "_id": ObjectId(),
            "name": f"Person {index}",
            "email": f"person{index}@example.com",
            "password_hash": "x",
            "role": "creator" if index % 4 == 0 else "viewer",
            "created_at": now - timedelta(days=index * 9 % 700, seconds=index % 3),
        }
        for index in range(60)
    ]
    with app.app_context():
        get_db().users.insert_many(people)
        stored = list(get_db().users.find({}, {"password_hash": 0}))
    newest = sorted(stored, key=lambda user: (user["created_at"], user["_id"]), reverse=True)
    items, _ = walk(client, "/admin/users", admin, per_page=9, key="users")
    assert [user["id"] for user in items] == [str(user["_id"]) for user in newest]
    creators, _ = walk(client, "/admin/users?role=creator", admin, per_page=4, key="users")
    expected = [str(user["_id"]) for user in newest if user["role"] == "creator"]
    assert [user["id"] for user in creators] == expected


def test_start_up_replaces_the_indexes_pages_used_to_need(app, make_app):
    with app.app_context():
        database = get_db()
        database.videos.drop_index("catalogue_newest")
        old_keys = [("status", 1), ("visibility", 1), ("deleted_at", 1), ("created_at", -1)]
        database.videos.create_index(old_keys, name="catalogue")
        database.users.drop_index("newest")
        database.users.create_index([("created_at", -1)], name="created_at")
    restarted = make_app()
    with restarted.app_context():
        video_indexes = get_db().videos.index_information()
        user_indexes = get_db().users.index_information()
    assert "catalogue" not in video_indexes and "created_at" not in user_indexes
    assert set(videos.CATALOGUE_INDEXES) <= set(video_indexes)
    assert list(user_indexes["newest"]["key"]) == [("created_at", -1), ("_id", -1)]


def test_a_first_page_starts_with_the_window_the_last_first_page_of_its_list_needed(app):
    from models import keyset
    from services import pagination

    seen = []

    def read_page(after, window):
        seen.append(window)
        return keyset.Page([], False, None, timedelta(days=len(seen) * 10))

    scope = pagination.list_scope("videos", q=f"hint-{ObjectId()}")
    with app.test_request_context():
        pagination.list_page(scope, None, 20, read_page)
        pagination.list_page(scope, None, 20, read_page)
        other = pagination.list_scope("videos", q=f"other-{ObjectId()}")
        pagination.list_page(other, None, 20, read_page)
    # The second first page starts where the first ended; other filters have no hint yet.
    assert seen == [None, timedelta(days=10), None]
