"""Reactions: ``PUT``/``DELETE /video/{id}/reaction``, the counts on video bodies and in the
daily counters, races, account deletion, export and the recount (docs/engagement.md#reactions).
"""

from collections import Counter
from functools import partial

import pytest
from bson import ObjectId

from models import daily_stats
from models import reaction as reaction_model
from models import video as videos
from models.common import object_id, utcnow
from models.db import get_db
from services import reactions
from tests.support.accounts import Accounts
from tests.support.catalogue import video_document
from tests.support.concurrency import InFlight, all_at_once
from tests.support.counters import flush_counters
from tests.support.errors import assert_error
from tests.test_account_deletion import delete_me, jobs_done

embedded_only = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


def stored_video(app, owner_bundle, **fields):
    """A ready public video written straight into the database (no media needed)."""
    owner_id = object_id(owner_bundle["user"]["id"])
    document = video_document(owner_id, utcnow(), **fields)
    with app.app_context():
        get_db().videos.insert_one(document)
    return str(document["_id"])


@pytest.fixture
def creator(accounts):
    return accounts.user_with_token("creator")


@pytest.fixture
def video_id(app, creator):
    return stored_video(app, creator)


def react(client, accounts, bundle, video_id, value, **query):
    return client.put(
        f"/video/{video_id}/reaction",
        json={"value": value},
        headers=accounts.bearer(bundle),
        query_string=query,
    )


def unreact(client, accounts, bundle, video_id):
    return client.delete(f"/video/{video_id}/reaction", headers=accounts.bearer(bundle))


def shown(client, accounts, bundle, video_id):
    response = client.get(f"/video/{video_id}", headers=accounts.bearer(bundle))
    assert response.status_code == 200, response.json
    return response.json["video"]


def exact(app, video_id):
    """(video counts, counts of the stored reactions): equal when the counts are exact."""
    with app.app_context():
        vid = object_id(video_id)
        return reaction_model.counts(vid), reaction_model.stored_counts(vid)


def today(app, video_id):
    flush_counters()  # every app's: a race may run through several
    with app.app_context():
        day = daily_stats.day_of(utcnow())
        found = get_db().video_days.find_one({"_id": f"{video_id}:{day}"}) or {}
    return found.get("likes", 0), found.get("dislikes", 0)


def test_like_switch_repeat_and_clear(app, client, accounts, viewer, video_id):
    body = react(client, accounts, viewer, video_id, "like").json
    assert body == {"reaction": "like", "likes": 1, "dislikes": 0}
    assert react(client, accounts, viewer, video_id, "like").json == body  # a repeat: no change
    switched = react(client, accounts, viewer, video_id, "dislike")
    assert switched.status_code == 200
    assert switched.json == {"reaction": "dislike", "likes": 0, "dislikes": 1}
    cleared = unreact(client, accounts, viewer, video_id)
    assert cleared.status_code == 200
    assert cleared.json == {"reaction": None, "likes": 0, "dislikes": 0}
    assert unreact(client, accounts, viewer, video_id).json == cleared.json  # nothing to clear
    assert exact(app, video_id) == ((0, 0), (0, 0))


def test_one_reaction_per_user_and_video(app, client, accounts, viewer, video_id):
    other = accounts.user_with_token("viewer")
    react(client, accounts, viewer, video_id, "like")
    react(client, accounts, viewer, video_id, "dislike")
    body = react(client, accounts, other, video_id, "like").json
    assert body == {"reaction": "like", "likes": 1, "dislikes": 1}
    with app.app_context():
        assert get_db().reactions.count_documents({"video_id": object_id(video_id)}) == 2


def test_video_bodies_carry_counts_and_my_reaction(app, client, accounts, viewer, creator):
    old = stored_video(app, creator, title="Before reactions")  # no likes/dislikes fields
    before = shown(client, accounts, viewer, old)
    assert (before["likes"], before["dislikes"], before["my_reaction"]) == (0, 0, None)
    react(client, accounts, viewer, old, "dislike")
    mine = shown(client, accounts, viewer, old)
    assert (mine["likes"], mine["dislikes"], mine["my_reaction"]) == (0, 1, "dislike")
    theirs = shown(client, accounts, creator, old)
    assert (theirs["dislikes"], theirs["my_reaction"]) == (1, None)


@pytest.mark.parametrize("path", ["/videos", "/dashboard"])
def test_list_pages_carry_my_reaction_in_one_query(
    app, client, accounts, viewer, creator, path, monkeypatch
):
    ids = [stored_video(app, creator, title=f"Clip {n}") for n in range(3)]
    react(client, accounts, viewer, ids[0], "like")
    react(client, accounts, viewer, ids[2], "dislike")
    lookups = []
    real = reaction_model.values_of
    monkeypatch.setattr(reaction_model, "values_of", lambda *a: lookups.append(a) or real(*a))
    monkeypatch.setattr(reaction_model, "value_of", None)  # never one item at a time
    response = client.get(path, headers=accounts.bearer(viewer))
    assert response.status_code == 200, response.json
    items = {item["id"]: item for item in response.json["videos"]}
    assert [items[i]["my_reaction"] for i in ids] == ["like", None, "dislike"]
    assert [(items[i]["likes"], items[i]["dislikes"]) for i in ids] == [(1, 0), (0, 0), (0, 1)]
    assert len(lookups) == 1


def test_bad_input(client, accounts, viewer, video_id):
    for body in ({"value": "love"}, {}, {"value": None}, {"value": "like", "extra": 1}):
        response = client.put(
            f"/video/{video_id}/reaction", json=body, headers=accounts.bearer(viewer)
        )
        assert_error(response, 400)
    assert_error(client.put(f"/video/{video_id}/reaction", json={"value": "like"}), 401)
    assert_error(client.delete(f"/video/{video_id}/reaction"), 401)


def test_only_videos_one_may_see_and_watch(app, client, accounts, viewer, creator):
    unknown = str(ObjectId())
    private = stored_video(app, creator, visibility="private")
    unlisted = stored_video(app, creator, visibility="unlisted", share_key="k" * 22)
    processing = stored_video(app, creator, status=videos.PROCESSING)
    paid = stored_video(app, creator, access="paid", price=500)
    for hidden in (unknown, private, unlisted):
        assert_error(react(client, accounts, viewer, hidden, "like"), 404, "video_not_found")
        assert_error(unreact(client, accounts, viewer, hidden), 404, "video_not_found")
    assert react(client, accounts, viewer, unlisted, "like", key="k" * 22).status_code == 200
    assert_error(react(client, accounts, creator, processing, "like"), 409, "video_not_ready")
    body = assert_error(react(client, accounts, viewer, paid, "like"), 403, "purchase_required")
    assert body["details"]["price"] == 500
    assert react(client, accounts, creator, paid, "like").status_code == 200  # its owner may
    assert exact(app, paid) == ((1, 0), (1, 0))


def test_daily_counters_hold_the_net_reactions_of_the_day(app, client, accounts, viewer, video_id):
    other = accounts.user_with_token("viewer")
    react(client, accounts, viewer, video_id, "like")
    react(client, accounts, other, video_id, "like")
    assert today(app, video_id) == (2, 0)
    react(client, accounts, viewer, video_id, "dislike")
    unreact(client, accounts, other, video_id)
    assert today(app, video_id) == (0, 1)


def test_a_crash_between_reaction_and_counts_is_repaired_by_recount(
    app, client, accounts, viewer, video_id, monkeypatch
):
    react(client, accounts, viewer, video_id, "like")

    def dies(*args):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(reaction_model, "move_counts", dies)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert react(client, accounts, viewer, video_id, "dislike").status_code == 500
    assert exact(app, video_id) == ((1, 0), (0, 1))  # the reaction moved, the counts not
    with app.app_context():
        assert reactions.recount(object_id(video_id)) == (0, 1)
    assert exact(app, video_id) == ((0, 1), (0, 1))


def test_account_deletion_takes_its_reactions_and_their_counts(
    app, client, accounts, viewer, creator, video_id
):
    other_video = stored_video(app, creator)
    someone = accounts.user_with_token("viewer")
    react(client, accounts, viewer, video_id, "like")
    react(client, accounts, viewer, other_video, "dislike")
    react(client, accounts, someone, video_id, "like")
    assert delete_me(client, viewer).status_code == 202
    jobs_done(app)
    assert exact(app, video_id) == ((1, 0), (1, 0))
    assert exact(app, other_video) == ((0, 0), (0, 0))
    with app.app_context():
        assert get_db().reactions.count_documents({"user_id": object_id(viewer["user"]["id"])}) == 0
    # A creator's deletion takes its videos, and everyone's reactions to them.
    assert delete_me(client, creator).status_code == 202
    jobs_done(app)
    with app.app_context():
        assert get_db().reactions.count_documents({}) == 0


def test_a_purge_takes_the_videos_reactions(app, client, accounts, viewer, video_id):
    react(client, accounts, viewer, video_id, "like")
    admin = accounts.user_with_token("admin")
    response = client.delete(f"/video/{video_id}?purge=true", headers=accounts.bearer(admin))
    assert response.status_code == 200
    with app.app_context():
        assert get_db().reactions.count_documents({}) == 0


def test_reactions_are_exported(client, accounts, viewer, video_id):
    react(client, accounts, viewer, video_id, "dislike")
    response = client.get("/me/export", headers=accounts.bearer(viewer))
    exported = response.get_json(force=True)
    assert [(r["video_id"], r["value"]) for r in exported["reactions"]] == [(video_id, "dislike")]
    assert set(exported["reactions"][0]) == {
        "user_id",
        "video_id",
        "value",
        "created_at",
        "updated_at",
    }


# ---------------------------------------------------------------------------
# Races, on the embedded server, over HTTP, spread over two app instances


def two_apps(make_app):
    in_flight = InFlight()
    return in_flight, [in_flight.wrap(make_app()), in_flight.wrap(make_app())]


@embedded_only
def test_twenty_racing_toggles_by_one_user_keep_counts_exact(make_app):
    in_flight, apps = two_apps(make_app)
    client = apps[0].test_client()
    accounts = Accounts(client, apps[0])
    viewer, creator = accounts.user_with_token(), accounts.user_with_token("creator")
    video_id = stored_video(apps[0], creator)
    headers = accounts.bearer(viewer)
    url = f"/video/{video_id}/reaction"

    def call(n):
        test_client = apps[n % 2].test_client()
        if n % 3 == 2:
            return test_client.delete(url, headers=headers)
        return test_client.put(url, json={"value": ("like", "dislike")[n % 3]}, headers=headers)

    responses = all_at_once([partial(call, n) for n in range(20)])
    assert Counter(r.status_code for r in responses) == {200: 20}
    counts, stored = exact(apps[0], video_id)
    assert counts == stored and sum(counts) <= 1
    assert today(apps[0], video_id) == counts  # the day's net reactions add up too
    assert in_flight.peak >= 5, "the requests never overlapped: this was not a race"


@embedded_only
def test_twenty_users_liking_at_once_make_twenty_likes(make_app):
    in_flight, apps = two_apps(make_app)
    accounts = Accounts(apps[0].test_client(), apps[0])
    creator = accounts.user_with_token("creator")
    video_id = stored_video(apps[0], creator)
    users = [accounts.user_with_token() for _ in range(20)]
    calls = [
        partial(
            apps[n % 2].test_client().put,
            f"/video/{video_id}/reaction",
            json={"value": "like"},
            headers=accounts.bearer(user),
        )
        for n, user in enumerate(users)
    ]
    responses = all_at_once(calls)
    assert Counter(r.status_code for r in responses) == {200: 20}
    assert exact(apps[0], video_id) == ((20, 0), (20, 0))
    assert today(apps[0], video_id) == (20, 0)
    assert in_flight.peak >= 5, "the requests never overlapped: this was not a race"
