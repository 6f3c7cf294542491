"""Courses: create, list, search, edit, delete, restore, the video order, and which of a
course's videos each caller may watch (docs/courses.md)."""

import pytest
from bson import ObjectId

from models import course as courses
from models import purchase as purchases
from models import video as videos
from models.common import utcnow
from models.vocabulary import COURSE_ITEM, PAID, SUBSCRIBERS
from tests.support.errors import assert_error


@pytest.fixture
def creator(accounts):
    return accounts.user_with_token("creator")


@pytest.fixture
def other(accounts):
    return accounts.user_with_token("creator")


@pytest.fixture
def admin(accounts):
    return accounts.user_with_token("admin")


def video_of(app, bundle, title="Lesson", **fields):
    """A video document of ``bundle``'s user, ready unless told otherwise (no media)."""
    with app.app_context():
        document = videos.insert(
            {
                "owner_id": ObjectId(bundle["user"]["id"]),
                "owner_name": bundle["user"]["name"],
                "title": title,
                "description": "",
                "visibility": fields.pop("visibility", "public"),
                "kind": "video",
            }
        )
        videos.update(document["_id"], **{"status": videos.READY, "duration": 3.0, **fields})
    return str(document["_id"])


def create(client, accounts, bundle, **body):
    body.setdefault("title", "Jazz piano from scratch")
    body.setdefault("category", "music")
    response = client.post("/courses", json=body, headers=accounts.bearer(bundle))
    assert response.status_code == 201, response.json
    return response.json["course"]


def put_videos(client, accounts, bundle, course_id, ids):
    return client.put(
        f"/courses/{course_id}/videos", json={"video_ids": ids}, headers=accounts.bearer(bundle)
    )


def test_a_creator_creates_a_free_course_and_anyone_reads_it(client, accounts, creator, viewer):
    course = create(client, accounts, creator, description="Scales first")
    assert course["price"] is None and course["currency"] == "USD"
    assert course["creator"] == {"id": creator["user"]["id"], "name": creator["user"]["name"]}
    assert course["video_ids"] == [] and course["videos"] == []
    got = client.get(f"/courses/{course['id']}", headers=accounts.bearer(viewer))
    assert got.status_code == 200
    assert got.json["course"]["title"] == "Jazz piano from scratch"
    assert got.json["course"]["description"] == "Scales first"


def test_a_priced_course_and_its_price_rules(client, accounts, creator):
    assert create(client, accounts, creator, price=1999)["price"] == 1999
    headers = accounts.bearer(creator)
    for price in (0, -5, 9.99, 10.0, True, "1999", 10**9):
        response = client.post("/courses", json={"title": "X", "price": price}, headers=headers)
        assert_error(response, 400, "invalid_price")
    response = client.post(
        "/courses", json={"title": "X", "price": 5, "currency": "EUR"}, headers=headers
    )
    assert_error(response, 400, "unsupported_currency")
    response = client.post(
        "/courses", json={"title": "X", "price": 5, "currency": "usd"}, headers=headers
    )
    assert response.status_code == 201


def test_a_viewer_may_not_create_a_course(client, accounts, viewer):
    response = client.post("/courses", json={"title": "Mine"}, headers=accounts.bearer(viewer))
    assert_error(response, 403, "insufficient_role")


def test_unknown_fields_and_wrong_types_are_400(client, accounts, creator):
    headers = accounts.bearer(creator)
    assert_error(
        client.post("/courses", json={"title": "X", "owner_id": "x"}, headers=headers), 400
    )
    assert_error(client.post("/courses", json={"title": {"$ne": None}}, headers=headers), 400)


def test_only_the_owner_or_an_admin_edits(client, accounts, creator, other, admin, viewer):
    course = create(client, accounts, creator, price=500)
    url = f"/courses/{course['id']}"
    edited = client.patch(
        url, json={"title": "New", "price": None}, headers=accounts.bearer(creator)
    )
    assert edited.status_code == 200
    assert edited.json["course"]["title"] == "New" and edited.json["course"]["price"] is None
    assert_error(
        client.patch(url, json={"title": "Theirs"}, headers=accounts.bearer(other)),
        403,
        "not_owner",
    )
    assert_error(
        client.patch(url, json={"title": "V"}, headers=accounts.bearer(viewer)), 403, "not_owner"
    )
    by_admin = client.patch(url, json={"price": 700}, headers=accounts.bearer(admin))
    assert by_admin.json["course"]["price"] == 700 and by_admin.json["course"]["title"] == "New"
    assert_error(
        client.patch(url, json={"price": 1.5}, headers=accounts.bearer(creator)),
        400,
        "invalid_price",
    )


def test_delete_hides_the_course_from_all_but_admins_and_an_admin_restores(
    client, accounts, creator, other, admin, viewer
):
    course = create(client, accounts, creator)
    url = f"/courses/{course['id']}"
    assert_error(client.delete(url, headers=accounts.bearer(other)), 403, "not_owner")
    assert client.delete(url, headers=accounts.bearer(creator)).status_code == 200
    for bundle in (creator, viewer):
        assert_error(client.get(url, headers=accounts.bearer(bundle)), 404, "course_not_found")
        assert_error(client.patch(url, json={"title": "x"}, headers=accounts.bearer(bundle)), 404)
    listed = client.get("/courses", headers=accounts.bearer(viewer)).json["courses"]
    assert course["id"] not in [item["id"] for item in listed]
    assert client.get(url, headers=accounts.bearer(admin)).json["course"]["deleted_at"]
    assert_error(client.post(f"{url}/restore", headers=accounts.bearer(creator)), 403)
    restored = client.post(f"{url}/restore", headers=accounts.bearer(admin))
    assert restored.status_code == 200 and restored.json["course"]["deleted_at"] is None
    assert client.get(url, headers=accounts.bearer(viewer)).status_code == 200
    missing = f"/courses/{ObjectId()}"
    assert_error(client.post(f"{missing}/restore", headers=accounts.bearer(admin)), 404)


def test_the_order_is_the_owners_to_set(client, app, accounts, creator, admin, viewer):
    course = create(client, accounts, creator)
    ids = [video_of(app, creator, title=f"Lesson {n}") for n in range(3)]
    order = [ids[2], ids[0], ids[1]]
    response = put_videos(client, accounts, creator, course["id"], order)
    assert response.status_code == 200, response.json
    shown = client.get(f"/courses/{course['id']}", headers=accounts.bearer(viewer)).json["course"]
    assert [video["id"] for video in shown["videos"]] == order
    assert shown["video_ids"] == order
    assert shown["videos"][0] == {
        "id": ids[2],
        "title": "Lesson 2",
        "duration": 3.0,
        "access": "free",
        "price": None,
        "watchable": True,
    }
    reorder = put_videos(client, accounts, admin, course["id"], [ids[1]])  # admin, for the owner
    assert reorder.json["course"]["video_ids"] == [ids[1]]
    assert_error(put_videos(client, accounts, viewer, course["id"], ids), 403, "not_owner")


def test_someone_elses_video_is_403_naming_it(client, app, accounts, creator, other, admin):
    course = create(client, accounts, creator)
    mine, theirs = video_of(app, creator), video_of(app, other)
    body = assert_error(put_videos(client, accounts, creator, course["id"], [mine, theirs]), 403)
    assert body["code"] == "not_your_video" and body["details"] == {"video_ids": [theirs]}
    # An admin may only put the course owner's videos in it, not its own.
    own = video_of(app, admin)
    assert_error(put_videos(client, accounts, admin, course["id"], [own]), 403, "not_your_video")
    # Someone else's private video is not even known to the caller: no existence leak.
    hidden = video_of(app, other, visibility="private")
    body = assert_error(put_videos(client, accounts, creator, course["id"], [hidden]), 400)
    assert body["code"] == "unknown_video" and body["details"] == {"video_ids": [hidden]}
    with app.app_context():
        assert courses.find(course["id"])["video_ids"] == []


def test_unknown_deleted_duplicate_and_too_many_ids_are_400(client, app, accounts, creator):
    course = create(client, accounts, creator)
    mine, gone = video_of(app, creator), video_of(app, creator)
    with app.app_context():
        videos.soft_delete(ObjectId(gone))
    unknown = str(ObjectId())
    body = assert_error(
        put_videos(client, accounts, creator, course["id"], [mine, unknown, gone]), 400
    )
    assert body["code"] == "unknown_video" and body["details"] == {"video_ids": [unknown, gone]}
    body = assert_error(put_videos(client, accounts, creator, course["id"], [mine, mine]), 400)
    assert body["code"] == "duplicate_video" and body["details"] == {"video_ids": [mine]}
    assert_error(put_videos(client, accounts, creator, course["id"], ["nope"]), 400)
    many = [str(ObjectId()) for _ in range(201)]
    assert_error(put_videos(client, accounts, creator, course["id"], many), 400)


def test_deleted_unready_and_hidden_videos_are_left_out(client, app, accounts, creator, viewer):
    course = create(client, accounts, creator)
    ready = video_of(app, creator, title="Ready")
    processing = video_of(app, creator, status=videos.PROCESSING)
    private = video_of(app, creator, visibility="private")
    gone = video_of(app, creator)
    assert (
        put_videos(
            client, accounts, creator, course["id"], [ready, processing, private, gone]
        ).status_code
        == 200
    )
    with app.app_context():
        videos.soft_delete(ObjectId(gone))
    url = f"/courses/{course['id']}"
    seen = client.get(url, headers=accounts.bearer(viewer)).json["course"]
    assert [video["id"] for video in seen["videos"]] == [ready]
    assert seen["video_ids"] == [ready]
    owned = client.get(url, headers=accounts.bearer(creator)).json["course"]
    assert [video["id"] for video in owned["videos"]] == [ready, private]
    # The owner gets every id the course lists: what the next PUT of the order starts from.
    assert owned["video_ids"] == [ready, processing, private, gone]
    listed = client.get("/courses", headers=accounts.bearer(viewer)).json["courses"]
    assert listed[0]["video_ids"] == [ready] and "videos" not in listed[0]


def buy(app, bundle, item_type, item_id):
    """A succeeded purchase, as models/purchase.py documents it."""
    user_id, item_id = ObjectId(bundle["user"]["id"]), ObjectId(item_id)
    with app.app_context():
        purchases.collection().insert_one(
            {
                "user_id": user_id,
                "item": {"type": item_type, "id": item_id},
                "creator_id": None,
                "amount": 1000,
                "currency": "USD",
                "status": purchases.SUCCEEDED,
                "payment_id": f"pay_{ObjectId()}",
                "provider": "sandbox",
                "created_at": utcnow(),
                "settled_at": utcnow(),
                "holding": purchases.holding_key(user_id, item_type, item_id),
            }
        )


def test_a_course_buyer_may_watch_its_paid_videos(client, app, accounts, creator, viewer):
    course = create(client, accounts, creator, price=1000)
    free = video_of(app, creator, title="Free")
    paid = video_of(app, creator, title="Paid", access=PAID, price=300)
    members = video_of(app, creator, title="Members", access=SUBSCRIBERS)
    assert (
        put_videos(client, accounts, creator, course["id"], [free, paid, members]).status_code
        == 200
    )
    url = f"/courses/{course['id']}"

    def watchable(bundle):
        items = client.get(url, headers=accounts.bearer(bundle)).json["course"]["videos"]
        return {item["title"]: (item["access"], item["watchable"]) for item in items}

    assert watchable(viewer) == {
        "Free": ("free", True),
        "Paid": ("paid", False),
        "Members": ("subscribers", False),
    }
    assert watchable(creator) == {
        "Free": ("free", True),
        "Paid": ("paid", True),
        "Members": ("subscribers", True),
    }
    buy(app, viewer, COURSE_ITEM, course["id"])
    assert watchable(viewer)["Paid"] == ("paid", True)
    assert watchable(viewer)["Members"] == ("subscribers", False)  # a course opens paid ones only
    # Deleted, the course no longer opens its videos for anyone (the access rule).
    client.delete(url, headers=accounts.bearer(creator))
    with app.app_context():
        assert courses.priced_containing(ObjectId(paid)) == []
