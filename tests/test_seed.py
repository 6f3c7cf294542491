"""seed_videos.py: idempotent demo data that went through the real pipeline, and in
development the money's every case (locked videos, a course, a buyer, the creator's earnings)
and engagement (demo/engagement.py: a fortnight of analytics, reactions, watch progress).

The development seed runs twice on one database (module fixture ``seeded``, embedded
server): the first run's videos are processed for real and its payments go through the
sandbox provider with no request (so no webhook URL); the second run must add and charge
nothing.
"""

import uuid
from urllib.parse import urlsplit

import pytest
from pymongo import MongoClient

from app import create_app, stop_background_work
from demo import engagement, money
from models.db import get_db
from seed_videos import DEMO_PASSWORD, seed, seed_if_empty
from tests.support.apps import test_config
from tests.support.counters import flush_counters

COLLECTIONS = (
    "users",
    "videos",
    "courses",
    "subscription_plans",
    "purchases",
    "subscriptions",
    "ledger",
    "sandbox_payments",
    "reactions",
    "watch_progress",
    "video_days",
    "video_months",
    "owner_months",
    "platform_months",
    "video_day_viewers",
)
# What a second run would double if it wrote again: the counters, summed.
SUMMED = {
    "videos": ("views", "likes", "dislikes"),
    "video_days": ("views", "unique_viewers", "watch_seconds", "likes", "completions"),
    "watch_progress": ("reports",),
}
# The monthly roll-ups' counters, summed over their days (models.daily_stats).
MONTHLY = {
    "owner_months": ("views", "watch_seconds"),
    "platform_months": ("views", "watch_seconds"),
}


def counts(app):
    flush_counters(app)
    with app.app_context():
        database = get_db()
        found = {name: database[name].count_documents({}) for name in COLLECTIONS}
        for name, fields in SUMMED.items():
            for field in fields:
                found[f"{name}.{field}"] = sum(
                    document.get(field, 0) for document in database[name].find({}, {field: 1})
                )
        for name, fields in MONTHLY.items():
            for field in fields:
                found[f"{name}.{field}"] = sum(
                    day.get(field, 0)
                    for document in database[name].find({}, {"days": 1})
                    for day in (document.get("days") or {}).values()
                )
        return found


@pytest.fixture(scope="module")
def seeded(embedded_server):
    """(app, what the first run queued, counts after it, what the second run queued,
    counts after it)."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    app = create_app(test_config(MONGODB_URI=embedded_server.uri(name), APP_ENV="development"))
    first = seed(app)  # waits for the paid video, then buys it
    app.extensions["media_jobs"].executor.shutdown(wait=True)
    after_first = counts(app)
    second = seed(app)
    yield app, first, after_first, second, counts(app)
    stop_background_work(app)  # a development app runs its sweeps: stop them first
    app.extensions["mongo"].client.close()
    with MongoClient(embedded_server.uri(), serverSelectionTimeoutMS=2000) as client:
        client.drop_database(name)


def login(app, email, password=DEMO_PASSWORD):
    answer = app.test_client().post("/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.json
    return {"Authorization": f"Bearer {answer.json['token']}"}


def seeded_video(app, key):
    with app.app_context():
        return get_db().videos.find_one({"seed_key": key})


def dashboard(app, email):
    answer = app.test_client().get("/dashboard?per_page=50", headers=login(app, email))
    assert answer.status_code == 200
    return {item["title"]: item for item in answer.json["videos"]}


def test_seed_videos_are_real_and_processed(seeded):
    app, first, *_ = seeded
    assert len(first) == 6
    with app.app_context():
        found = list(get_db().videos.find())
        emails = {user["email"] for user in get_db().users.find()}
    assert sorted(video["visibility"] for video in found) == ["public"] * 5 + ["unlisted"]
    assert sorted(video.get("access", "free") for video in found) == ["free"] * 4 + [
        "paid",
        "subscribers",
    ]
    for video in found:
        assert video["status"] == "ready", video.get("failure_reason")
        assert (video["video_codec"], video["audio_codec"]) == ("h264", "aac")
        assert 10 <= video["duration"] <= 30
        assert video["thumbnail_file_id"] is not None
    demo = {"creator@example.com", "viewer@example.com", "buyer@example.com"}
    assert demo | {"admin@test.example"} <= emails


def test_one_demo_video_came_through_a_resumable_upload(seeded):
    """The seed sends "Forest Walk"'s file as a tus upload in pieces (docs/uploads.md)."""
    app = seeded[0]
    video = seeded_video(app, "demo-forest")
    with app.app_context():
        upload = get_db().tus_uploads.find_one({"video_id": video["_id"]})
    assert upload is not None and upload["offset"] == upload["length"] == video["source_size"]
    assert video["status"] == "ready"


def test_a_second_run_adds_nothing_and_charges_nothing(seeded):
    app, _, after_first, second, after_second = seeded
    assert second == []
    assert seed_if_empty(app) == []
    assert after_second == after_first
    assert after_first["sandbox_payments"] == 2  # the purchase and the first period
    assert after_first["ledger"] == 2


def test_unlisted_demo_video_opens_with_its_share_key(seeded):
    app = seeded[0]
    viewer = login(app, "viewer@example.com")
    client = app.test_client()
    unlisted = seeded_video(app, "demo-unlisted")
    assert unlisted["title"] not in dashboard(app, "viewer@example.com")
    path = f"/video/{unlisted['_id']}"
    assert client.get(path, headers=viewer).status_code == 404
    assert client.get(f"{path}?key={unlisted['share_key']}", headers=viewer).status_code == 200


def test_viewer_sees_paid_and_subscribers_videos_locked_with_thumbnails(seeded):
    app = seeded[0]
    shown = dashboard(app, "viewer@example.com")
    assert len(shown) == 5  # public ones only
    paid, members = shown["Premium Sunset"], shown["Members' Lounge"]
    assert (paid["locked"], paid["access"], paid["price"]) == (True, "paid", 299)
    assert (members["locked"], members["access"]) == (True, "subscribers")
    assert members["price"] == money.PLAN_PRICE
    assert not shown["Sunrise Squares"]["locked"]
    for item in (paid, members):
        assert "playback_token" not in item
        url = urlsplit(item["thumbnail_url"])
        thumbnail = app.test_client().get(f"{url.path}?{url.query}")
        assert thumbnail.status_code == 200
        assert thumbnail.mimetype == "image/jpeg"
    refused = app.test_client().post(
        f"/video/{paid['id']}/playback-token", headers=login(app, "viewer@example.com")
    )
    assert refused.status_code == 403
    assert refused.json["code"] == "purchase_required"


def test_the_course_lists_its_videos_with_watchable(seeded):
    app = seeded[0]
    client = app.test_client()
    listed = client.get("/courses?q=demo", headers=login(app, "viewer@example.com")).json
    course = next(item for item in listed["courses"] if item["title"] == "Demo Course")
    assert course["price"] == 999
    for email, paid_watchable in (("viewer@example.com", False), ("buyer@example.com", True)):
        answer = client.get(f"/courses/{course['id']}", headers=login(app, email))
        assert answer.status_code == 200
        videos = answer.json["course"]["videos"]
        assert [video["title"] for video in videos] == ["Premium Sunset", "Sunrise Squares"]
        assert [video["watchable"] for video in videos] == [paid_watchable, True]


def test_buyer_bought_the_paid_video_and_subscribes_through_the_sandbox(seeded):
    app = seeded[0]
    client = app.test_client()
    buyer = login(app, money.BUYER_EMAIL)
    shown = dashboard(app, money.BUYER_EMAIL)
    assert not shown["Premium Sunset"]["locked"]
    assert not shown["Members' Lounge"]["locked"]
    bought = client.get("/me/purchases", headers=buyer).json["purchases"]
    assert [(p["status"], p["amount"], p["item"]["type"]) for p in bought] == [
        ("succeeded", 299, "video")
    ]
    subscribed = client.get("/me/subscriptions", headers=buyer).json["subscriptions"]
    assert [(s["status"], s["amount"]) for s in subscribed] == [("active", money.PLAN_PRICE)]
    with app.app_context():
        payments = list(get_db().sandbox_payments.find())
    assert {payment["payment_method"] for payment in payments} == {"pm_card_visa"}
    assert {payment["status"] for payment in payments} == {"succeeded"}
    assert all(payment["webhook_url"] is None for payment in payments)  # no request: no host


def test_creator_earnings_and_admin_revenue_show_the_money(seeded):
    app = seeded[0]
    client = app.test_client()
    earnings = client.get("/me/earnings", headers=login(app, "creator@example.com")).json
    # 299 and 499: the creator's 80 % floored (239 + 399), the platform the rest.
    expected = {"gross": 798, "creator_share": 638, "platform_share": 160}
    assert earnings["totals"] == expected
    assert sorted(item["type"] for item in earnings["by_item"]) == ["subscription", "video"]
    admin = client.post(
        "/auth/login", json={"email": "admin@test.example", "password": "admin-test-password"}
    ).json["token"]
    revenue = client.get("/admin/revenue", headers={"Authorization": f"Bearer {admin}"}).json
    assert revenue["totals"] == expected


def admin_login(app):
    return login(app, "admin@test.example", "admin-test-password")


def test_creator_analytics_show_the_seeded_fortnight(seeded):
    app = seeded[0]
    report = app.test_client().get("/analytics/creator", headers=login(app, "creator@example.com"))
    assert report.status_code == 200
    totals, daily = report.json["totals"], report.json["daily"]
    assert len(daily) == 30
    assert all(day["views"] == 0 for day in daily[: 30 - engagement.HISTORY_DAYS])
    seeded_days = daily[30 - engagement.HISTORY_DAYS :]
    assert sum(1 for day in seeded_days if day["views"]) >= engagement.HISTORY_DAYS // 2
    assert totals["views"] == sum(day["views"] for day in daily) > 0
    assert totals["watch_seconds"] == sum(day["watch_seconds"] for day in daily) > 0
    assert 0 < totals["unique_viewers"] <= totals["views"]
    assert 0 < totals["completion_rate"] <= 1
    audience = sum(len(names) for names in engagement.AUDIENCE.values())
    for day in seeded_days:  # the demo accounts are the unique viewers of each video
        assert day["unique_viewers"] <= min(day["views"], audience)
    assert (totals["likes"], totals["dislikes"]) == (6, 2)  # demo/engagement.py REACTIONS
    top = report.json["top_videos"]
    with app.app_context():
        titles = {video["title"] for video in get_db().videos.find()}
    assert top and {video["title"] for video in top} <= titles


def test_reaction_counts_equal_the_stored_reactions(seeded):
    app = seeded[0]
    client, creator = app.test_client(), login(app, "creator@example.com")
    with app.app_context():
        videos = list(get_db().videos.find())
        stored = list(get_db().reactions.find())
    assert len(stored) == len(engagement.REACTIONS)
    for video in videos:
        mine = [reaction["value"] for reaction in stored if reaction["video_id"] == video["_id"]]
        counts = (mine.count("like"), mine.count("dislike"))
        assert (video.get("likes", 0), video.get("dislikes", 0)) == counts
        report = client.get(f"/video/{video['_id']}/analytics", headers=creator).json["totals"]
        assert (report["likes"], report["dislikes"]) == counts
    shown = dashboard(app, "viewer@example.com")
    assert [shown[title]["my_reaction"] for title in ("Sunrise Squares", "Forest Walk")] == [
        "like",
        "dislike",
    ]


def test_a_videos_views_are_the_sum_of_its_days(seeded):
    app = seeded[0]
    flush_counters(app)
    with app.app_context():
        database = get_db()
        for video in database.videos.find():
            days = list(database.video_days.find({"video_id": video["_id"]}))
            assert video.get("views", 0) == sum(day.get("views", 0) for day in days)
            assert len(days) <= engagement.HISTORY_DAYS
            for day in days:
                assert day.get("completions", 0) <= day.get("views", 0)
                assert day.get("watch_seconds", 0) <= day.get("views", 0) * video["duration"]


def test_viewer_continues_two_videos_and_finished_one(seeded):
    app = seeded[0]
    client, viewer = app.test_client(), login(app, "viewer@example.com")
    watching = client.get("/me/continue-watching", headers=viewer).json["videos"]
    assert {item["title"]: round(item["progress"], 2) for item in watching} == {
        "Sunrise Squares": 0.4,
        "Forest Walk": 0.25,
    }
    history = client.get("/me/history", headers=viewer).json["videos"]
    finished = {item["title"]: item["finished"] for item in history}
    assert finished == {"Sunrise Squares": False, "Forest Walk": False, "Ocean Drift": True}


def test_admin_analytics_show_views_per_day(seeded):
    app = seeded[0]
    report = app.test_client().get("/analytics/admin", headers=admin_login(app)).json
    assert sum(day["views"] for day in report["daily"]) > 0
    with app.app_context():
        stored = sum(video.get("views", 0) for video in get_db().videos.find())
    assert sum(day["views"] for day in report["daily"]) == stored


@pytest.mark.parametrize("backend", ["mongomock"], indirect=True)
def test_make_runs_seed_buys_in_the_background_once_the_video_is_ready(make_app):
    app = make_app(APP_ENV="development")
    threads = []
    added = seed_if_empty(
        app,
        sell=lambda app: threads.append(money.sell_in_background(app)),
        engage=lambda app: threads.append(engagement.engage_in_background(app)),
    )
    assert len(added) == 6 and len(threads) == 2
    for thread in threads:
        thread.join(timeout=300)
        assert not thread.is_alive()
    app.extensions["media_jobs"].executor.shutdown(wait=True)
    with app.app_context():
        purchases = list(get_db().purchases.find())
    assert [purchase["status"] for purchase in purchases] == ["succeeded"]
    watching = app.test_client().get(
        "/me/continue-watching", headers=login(app, "viewer@example.com")
    )
    assert sorted(item["title"] for item in watching.json["videos"]) == [
        "Forest Walk",
        "Sunrise Squares",
    ]


@pytest.mark.parametrize("backend", ["mongomock"], indirect=True)
def test_production_seed_makes_no_demo_accounts(make_app, monkeypatch):
    for name in ("SECRET_KEY", "JWT_SECRET_KEY", "PLAYBACK_SECRET_KEY"):
        monkeypatch.setenv(name, name.lower() * 4)
    app = make_app(APP_ENV="production", BCRYPT_ROUNDS=12, ADMIN_EMAIL=None, ADMIN_PASSWORD=None)
    assert seed(app) == []
    with app.app_context():
        assert get_db().users.count_documents({}) == 0
