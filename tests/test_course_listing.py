"""Courses listed: search, filters, keyset pages and their cursors, and the index behind every
course query (docs/courses.md). The course helpers are tests/test_courses.py's."""

import pytest

from models.vocabulary import PAID
from tests.support.errors import assert_error
from tests.support.query_indexes import indexes_of, recording_queries, unserved
from tests.test_courses import create, put_videos, video_of


@pytest.fixture
def creator(accounts):
    return accounts.user_with_token("creator")


@pytest.fixture
def other(accounts):
    return accounts.user_with_token("creator")


def test_search_filters_and_pages(client, app, accounts, creator, other, viewer):
    headers = accounts.bearer(viewer)
    made = [create(client, accounts, creator, title=f"Piano lesson {n}") for n in range(5)]
    create(
        client, accounts, other, title="Café crème latte art", category="food", description="Milk"
    )
    body = client.get("/courses?q=PIAN&per_page=2", headers=headers).json
    assert [item["id"] for item in body["courses"]] == [made[4]["id"], made[3]["id"]]
    assert body["pagination"]["has_more"] is True
    found, cursor = [item["id"] for item in body["courses"]], body["pagination"]["next_cursor"]
    while cursor:
        page = client.get(f"/courses?q=PIAN&per_page=2&cursor={cursor}", headers=headers).json
        found += [item["id"] for item in page["courses"]]
        cursor = page["pagination"]["next_cursor"]
    assert found == [course["id"] for course in reversed(made)]

    def titles(query):
        listed = client.get(f"/courses?{query}", headers=headers).json["courses"]
        return [course["title"] for course in listed]

    assert titles("q=creme") == ["Café crème latte art"]
    assert titles("q=milk") == ["Café crème latte art"]
    assert titles("category=food") == ["Café crème latte art"]
    assert titles(f"creator={other['user']['id']}") == ["Café crème latte art"]
    assert titles(f"creator={creator['user']['id']}&q=lesson+pia&per_page=1") == ["Piano lesson 4"]
    assert titles("q=violin") == [] and titles("q=%21%21") == []


def test_a_tampered_or_foreign_cursor_is_400(client, accounts, creator, viewer):
    for n in range(3):
        create(client, accounts, creator, title=f"Course {n}")
    headers = accounts.bearer(viewer)
    cursor = client.get("/courses?per_page=1", headers=headers).json["pagination"]["next_cursor"]
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    assert_error(client.get(f"/courses?cursor={tampered}", headers=headers), 400, "invalid_cursor")
    assert_error(
        client.get(f"/courses?q=x&cursor={cursor}", headers=headers), 400, "invalid_cursor"
    )
    videos_cursor = f"/videos?cursor={cursor}"
    assert_error(client.get(videos_cursor, headers=headers), 400, "invalid_cursor")
    assert_error(client.get("/courses?creator=nope", headers=headers), 400)


@pytest.fixture
def recorder(monkeypatch):
    """Every query the app sends, recorded."""
    return recording_queries(monkeypatch)


@pytest.mark.parametrize("backend", ["embedded"])
def test_every_course_query_has_an_index(recorder, make_app, backend):
    from tests.support.accounts import Accounts

    app = make_app()
    client = app.test_client()
    accounts = Accounts(client, app)
    creator, viewer = accounts.user_with_token("creator"), accounts.user_with_token()
    course = create(client, accounts, creator, price=900)
    video = video_of(app, creator, access=PAID, price=100)
    put_videos(client, accounts, creator, course["id"], [video])
    headers = accounts.bearer(viewer)
    recorder.recording = True
    for query in (
        "",
        "?q=jazz",
        "?q=ja",
        "?category=music",
        f"?creator={creator['user']['id']}",
        f"?creator={creator['user']['id']}&q=piano+scratch&category=music",
    ):
        assert client.get(f"/courses{query}", headers=headers).status_code == 200
    assert client.get(f"/courses/{course['id']}", headers=headers).status_code == 200
    put_videos(client, accounts, creator, course["id"], [video])
    recorder.recording = False
    with app.app_context():
        from models.db import get_db

        indexes = indexes_of(get_db())
    mine = [q for q in recorder.queries if q.collection in ("courses", "videos")]
    assert [q for q in mine if q.collection == "courses"]
    assert unserved(mine, indexes) == []
