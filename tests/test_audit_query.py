"""``GET /admin/audit`` with filters that combine, walked page by page (docs/audit.md).

test_audit.py checks each filter on entries that match all of them at once; here the entries
share some fields and differ in others, so a filter that is dropped, or applied only to the
index's part of the query, returns entries it should not. Pages are walked to the end: none is
skipped or repeated, also when many entries share one millisecond.
"""

from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from models import audit as records

ADMIN = ("admin@test.example", "admin-test-password")
START = datetime(2026, 3, 1, tzinfo=UTC)


def entry(index, actor, action, target, at=None):
    return {
        "_id": ObjectId(),
        "at": at or START + timedelta(minutes=index),
        "actor_id": actor,
        "actor_role": "creator",
        "action": action,
        "method": "PATCH",
        "target": target,
        "status": 200,
        "request_id": None,
        "ip_hash": None,
    }


@pytest.fixture
def headers(accounts):
    return accounts.bearer(accounts.login(*ADMIN))


def stored(app, made):
    with app.app_context():
        records.insert_many(made)
    return made


def walk(client, headers, query, per_page):
    """Every entry id of the query, page after page, newest first."""
    seen, cursor = [], None
    for _ in range(100):
        params = {**query, "per_page": per_page, **({"cursor": cursor} if cursor else {})}
        response = client.get("/admin/audit", query_string=params, headers=headers)
        assert response.status_code == 200, response.json
        body = response.json
        assert len(body["entries"]) <= per_page
        seen += [item["id"] for item in body["entries"]]
        cursor = body["pagination"]["next_cursor"]
        if not cursor:
            return seen
    raise AssertionError("the pages never ended")


def newest_first(entries):
    return [str(e["_id"]) for e in sorted(entries, key=lambda e: (e["at"], e["_id"]), reverse=True)]


def test_filters_combine_as_and(app, client, headers):
    alice, bob = ObjectId(), ObjectId()
    video, other = (
        {"type": "video", "id": str(ObjectId())},
        {"type": "video", "id": str(ObjectId())},
    )
    made = stored(
        app,
        [
            entry(n, (alice, bob)[n % 2], ("video.edit", "video.delete")[n // 2 % 2], target)
            for n, target in enumerate([video] * 12 + [other] * 8 + [None] * 4)
        ],
    )
    cases = {
        (("actor", str(alice)), ("target", f"video:{video['id']}")): lambda e: (
            e["actor_id"] == alice and e["target"] == video
        ),
        (("action", "video.delete"), ("target_type", "video"), ("target_id", video["id"])): (
            lambda e: e["action"] == "video.delete" and e["target"] == video
        ),
        (("actor", str(bob)), ("action", "video.edit")): lambda e: (
            e["actor_id"] == bob and e["action"] == "video.edit"
        ),
        (("actor", str(bob)), ("action", "video.edit"), ("target", f"video:{other['id']}")): (
            lambda e: e["actor_id"] == bob and e["action"] == "video.edit" and e["target"] == other
        ),
    }
    for query, wanted in cases.items():
        expected = newest_first([e for e in made if wanted(e)])
        assert expected, query  # each case selects something, and not everything
        assert len(expected) < len(made)
        for per_page in (2, 100):
            assert walk(client, headers, dict(query), per_page) == expected, (query, per_page)


def test_a_filter_and_a_span_combine(app, client, headers):
    actor = ObjectId()
    made = stored(
        app, [entry(n * 60, (actor, None)[n % 2], "video.edit", None) for n in range(10)]
    )  # one an hour, from 00:00; every other one the actor's
    query = {"actor": str(actor), "from": "2026-03-01T02:00:00Z", "to": "2026-03-01T08:00:00"}
    expected = newest_first(
        [e for e in made if e["actor_id"] == actor and 2 <= (e["at"] - START).seconds // 3600 < 8]
    )
    assert len(expected) == 3
    assert walk(client, headers, query, 1) == expected


def test_entries_of_one_millisecond_are_each_listed_once(app, client, headers):
    actor = ObjectId()
    moment = START + timedelta(hours=5)
    made = stored(
        app,
        [
            entry(0, (actor, None)[n % 3 == 0], "me.update_profile", None, at=moment)
            for n in range(25)
        ],
    )
    before_today = {"to": "2026-03-02"}  # not the admin's login of this test
    assert walk(client, headers, before_today, 4) == newest_first(made)
    mine = [e for e in made if e["actor_id"] == actor]
    assert walk(client, headers, {"actor": str(actor), "action": "me.update_profile"}, 3) == (
        newest_first(mine)
    )


@pytest.mark.parametrize(
    "query",
    [
        {"per_page": 101},
        {"per_page": 0},
        {"action": "x" * 101},
        {"target": "video:" + "0" * 23},
        {"from": "2026-01-01T25:00:00"},
        {"from": "2026-03-01", "to": "2026-03-01T00:00:00Z"},  # an empty span: from == to
    ],
)
def test_more_malformed_queries_are_400(client, headers, query):
    response = client.get("/admin/audit", query_string=query, headers=headers)
    assert response.status_code == 400, response.json
    assert set(response.json) == {"error", "code", "details"}


def test_the_retention_index_is_on_the_moment_of_every_entry(app, accounts):
    """The TTL index removes entries by ``at``, which every written entry carries as a date
    (an index on a field the entries lack, or a string, would keep them for ever)."""
    accounts.signup()
    assert app.extensions["audit_log"].flush(10)
    with app.app_context():
        collection = records.collection()
        ttl = collection.index_information()[records.TTL_INDEX]
        found = list(collection.find())
    assert [tuple(key) for key in ttl["key"]] == [("at", 1)]
    assert ttl["expireAfterSeconds"] == app.config["AUDIT_RETENTION_DAYS"] * 86400
    assert found and all(isinstance(entry["at"], datetime) for entry in found)
