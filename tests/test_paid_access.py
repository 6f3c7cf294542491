"""Paid and subscribers' videos: who may watch, locked listing items, and the price fields
(docs/videos.md#access-and-price, docs/playback.md#locked-items). Both backends.

Purchases, subscriptions, plans and courses are inserted as documents, in the shapes their
models document (models/purchase.py, models/subscription.py, models/plan.py,
models/course.py): the access rule reads them as they are now, on every request.
"""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from bson import ObjectId

from models.common import utcnow
from models.db import get_db
from services import tokens
from tests.support.errors import assert_error
from tests.support.uploads import upload

PRICE, PLAN_PRICE = 500, 799


class Shop:
    """Money records written straight into the database, as the purchase API will."""

    def __init__(self, app):
        self.app = app

    def _insert(self, collection, document):
        with self.app.app_context():
            return get_db()[collection].insert_one(document).inserted_id

    def buy(self, user_id, item_type, item_id, status="succeeded"):
        user_id, item_id = ObjectId(user_id), ObjectId(item_id)
        return self._insert(
            "purchases",
            {
                "user_id": user_id,
                "item": {"type": item_type, "id": item_id},
                "creator_id": None,
                "amount": PRICE,
                "currency": "USD",
                "status": status,
                "payment_id": f"pay_{ObjectId()}",
                "provider": "sandbox",
                "failure_reason": None,
                "created_at": utcnow(),
                "settled_at": utcnow(),
                "refunded_at": None,
                "holding": f"{user_id}:{item_type}:{item_id}",
            },
        )

    def refund(self, purchase_id):
        with self.app.app_context():
            get_db().purchases.update_one(
                {"_id": purchase_id},
                {
                    "$set": {"status": "refunded", "refunded_at": utcnow()},
                    "$unset": {"holding": ""},
                },
            )

    def subscribe(self, user_id, creator_id, period_end):
        user_id, creator_id = ObjectId(user_id), ObjectId(creator_id)
        return self._insert(
            "subscriptions",
            {
                "user_id": user_id,
                "creator_id": creator_id,
                "amount": PLAN_PRICE,
                "currency": "USD",
                "status": "active",
                "cancel_at_period_end": False,
                "current_period_end": period_end,
                "payment_id": f"pay_{ObjectId()}",
                "created_at": utcnow(),
                "ended_at": None,
                "holding": f"{user_id}:{creator_id}",
            },
        )

    def end_subscription(self, subscription_id):
        with self.app.app_context():
            get_db().subscriptions.update_one(
                {"_id": subscription_id},
                {"$set": {"status": "ended", "ended_at": utcnow()}, "$unset": {"holding": ""}},
            )

    def plan(self, creator_id, price=PLAN_PRICE):
        self._insert(
            "subscription_plans",
            {
                "_id": ObjectId(creator_id),
                "price": price,
                "currency": "USD",
                "updated_at": utcnow(),
            },
        )

    def course(self, owner_id, video_ids, price):
        return self._insert(
            "courses",
            {
                "owner_id": ObjectId(owner_id),
                "title": "A course",
                "description": "",
                "category": None,
                "price": price,
                "video_ids": [ObjectId(video_id) for video_id in video_ids],
                "keywords": [],
                "created_at": utcnow(),
                "updated_at": utcnow(),
                "deleted_at": None,
            },
        )


@pytest.fixture
def shop(app):
    return Shop(app)


@pytest.fixture
def creator_id(library):
    return library.owner["user"]["id"]


@pytest.fixture
def paid(library, multi_chunk_mp4):
    return library.ready_video(multi_chunk_mp4, title="Paid", access="paid", price=PRICE)


@pytest.fixture
def members_only(library, multi_chunk_mp4, shop, creator_id):
    shop.plan(creator_id)
    return library.ready_video(multi_chunk_mp4, title="Members", access="subscribers")


def headers(accounts, bundle):
    return accounts.bearer(bundle)


def token_request(client, accounts, bundle, video):
    return client.post(f"/video/{video['id']}/playback-token", headers=headers(accounts, bundle))


def plays(client, accounts, bundle, video):
    """Whether ``bundle``'s user gets a playback token and the media with it."""
    response = token_request(client, accounts, bundle, video)
    if response.status_code != 200:
        return False
    return client.get(response.json["stream_url"]).status_code == 200


def item_of(response, video):
    assert response.status_code == 200, response.json
    return next(item for item in response.json["videos"] if item["id"] == video["id"])


class TestWhoMayWatch:
    def test_free_and_legacy_videos_play_for_anyone(
        self, client, accounts, library, viewer, multi_chunk_mp4
    ):
        legacy = library.ready_video(multi_chunk_mp4)  # stored before access levels
        free = library.ready_video(multi_chunk_mp4, access="free")
        assert plays(client, accounts, viewer, legacy) and plays(client, accounts, viewer, free)
        body = client.get(f"/video/{legacy['id']}", headers=headers(accounts, viewer)).json
        assert (body["video"]["access"], body["video"]["price"]) == ("free", None)
        assert body["video"]["currency"] == "USD"

    def test_a_paid_video_is_403_with_what_would_open_it(
        self, client, accounts, viewer, paid, shop, creator_id
    ):
        free_course = shop.course(creator_id, [paid["id"]], None)
        priced_course = shop.course(creator_id, [paid["id"]], 2000)
        body = assert_error(token_request(client, accounts, viewer, paid), 403, "purchase_required")
        assert body["details"] == {
            "access": "paid",
            "price": PRICE,
            "currency": "USD",
            "course_ids": [str(priced_course)],
        }
        assert str(free_course) not in body["details"]["course_ids"]
        shown = client.get(f"/video/{paid['id']}", headers=headers(accounts, viewer)).json
        assert (shown["video"]["access"], shown["video"]["price"]) == ("paid", PRICE)

    def test_owner_and_admin_always_watch(
        self, client, accounts, library, viewer, paid, members_only
    ):
        assert not plays(client, accounts, viewer, paid)
        assert not plays(client, accounts, viewer, members_only)
        admin = accounts.user_with_token("admin")
        for bundle in (library.owner, admin):
            assert plays(client, accounts, bundle, paid)
            assert plays(client, accounts, bundle, members_only)

    def test_another_or_pending_purchase_opens_nothing(self, client, accounts, viewer, paid, shop):
        shop.buy(viewer["user"]["id"], "video", ObjectId(), status="succeeded")  # another one
        assert not plays(client, accounts, viewer, paid)
        shop.buy(viewer["user"]["id"], "video", paid["id"], status="pending")
        assert not plays(client, accounts, viewer, paid)  # pending opens nothing

    def test_a_succeeded_purchase_opens_it(self, client, accounts, viewer, paid, shop):
        assert not plays(client, accounts, viewer, paid)
        shop.buy(viewer["user"]["id"], "video", paid["id"])
        assert plays(client, accounts, viewer, paid)

    def test_a_buyer_of_a_priced_course_with_it_watches(
        self, client, accounts, viewer, paid, shop, creator_id
    ):
        free_course = shop.course(creator_id, [paid["id"]], None)
        shop.buy(viewer["user"]["id"], "course", free_course)
        assert not plays(client, accounts, viewer, paid)  # a free course sells nothing
        course = shop.course(creator_id, [paid["id"]], 2000)
        shop.buy(viewer["user"]["id"], "course", course)
        assert plays(client, accounts, viewer, paid)

    def test_an_active_subscriber_watches(
        self, client, accounts, viewer, members_only, shop, creator_id
    ):
        body = assert_error(
            token_request(client, accounts, viewer, members_only), 403, "subscription_required"
        )
        assert body["details"] == {
            "access": "subscribers",
            "price": PLAN_PRICE,
            "currency": "USD",
            "creator_id": creator_id,
        }
        shop.subscribe(viewer["user"]["id"], creator_id, utcnow() + timedelta(days=3))
        assert plays(client, accounts, viewer, members_only)

    def test_an_expired_period_opens_nothing(
        self, client, accounts, viewer, members_only, shop, creator_id
    ):
        shop.subscribe(viewer["user"]["id"], creator_id, utcnow() - timedelta(minutes=1))
        response = token_request(client, accounts, viewer, members_only)
        assert_error(response, 403, "subscription_required")


class TestAccessEndsAtOnce:
    def test_a_refund_stops_the_next_media_request(self, client, accounts, viewer, paid, shop):
        purchase = shop.buy(viewer["user"]["id"], "video", paid["id"])
        response = token_request(client, accounts, viewer, paid)
        stream_url, token = response.json["stream_url"], response.json["playback_token"]
        first = client.get(stream_url, headers={"Range": "bytes=0-1"})
        assert first.status_code == 206
        shop.refund(purchase)
        body = assert_error(client.get(stream_url, headers={"Range": "bytes=2-3"}), 403)
        assert body["code"] == "purchase_required" and body["details"]["price"] == PRICE
        assert client.head(stream_url).status_code == 403
        stream = client.get(
            f"/video/{paid['id']}/stream?token={token}", headers=headers(accounts, viewer)
        )
        assert_error(stream, 403, "purchase_required")
        assert_error(token_request(client, accounts, viewer, paid), 403, "purchase_required")

    def test_an_ended_subscription_stops_the_next_media_request(
        self, client, accounts, viewer, members_only, shop, creator_id
    ):
        subscription = shop.subscribe(viewer["user"]["id"], creator_id, utcnow() + timedelta(1))
        stream_url = token_request(client, accounts, viewer, members_only).json["stream_url"]
        assert client.get(stream_url).status_code == 200
        shop.end_subscription(subscription)
        assert_error(client.get(stream_url), 403, "subscription_required")

    def test_a_free_video_made_paid_stops_its_old_tokens(
        self, client, accounts, library, viewer, multi_chunk_mp4
    ):
        video = library.ready_video(multi_chunk_mp4)
        response = token_request(client, accounts, viewer, video)
        stream_url, token = response.json["stream_url"], response.json["playback_token"]
        assert client.get(stream_url).status_code == 200
        edit = client.patch(
            f"/video/{video['id']}",
            json={"access": "paid", "price": PRICE},
            headers=headers(accounts, library.owner),
        )
        assert edit.status_code == 200, edit.json
        assert_error(client.get(stream_url), 403, "purchase_required")
        stream = client.get(
            f"/video/{video['id']}/stream?token={token}", headers=headers(accounts, viewer)
        )
        assert_error(stream, 403, "purchase_required")


class TestLockedItems:
    @pytest.fixture
    def shelf(self, library, multi_chunk_mp4, paid, members_only):
        free = library.ready_video(multi_chunk_mp4, title="Free")
        return {"free": free, "paid": paid, "subscribers": members_only}

    @pytest.mark.parametrize("path", ["/dashboard", "/videos"])
    def test_locked_items_say_what_opens_them(self, client, accounts, viewer, shelf, path):
        response = client.get(path, headers=headers(accounts, viewer))
        free, paid, members = (item_of(response, shelf[name]) for name in shelf)
        assert (free["locked"], free["access"], free["price"]) == (False, "free", None)
        assert (paid["locked"], paid["access"], paid["price"]) == (True, "paid", PRICE)
        assert (members["locked"], members["access"]) == (True, "subscribers")
        assert members["price"] == PLAN_PRICE  # the creator's plan
        for item in (free, paid, members):
            assert item["currency"] == "USD"
        for item in (paid, members):
            assert "playback_token" not in item
            assert_thumbnail_only(client, item)
        if path == "/dashboard":  # the React Native app's contract
            assert free["playback_token"] and free["thumbnail_url"] and free["description"] == ""
            assert client.get(free["thumbnail_url"]).status_code == 200
        else:  # the catalogue hands out no playback token: its thumbnails are previews
            assert "playback_token" not in free
            assert_thumbnail_only(client, free)

    def test_owners_see_their_own_videos_unlocked(self, client, accounts, library, shelf):
        response = client.get("/dashboard", headers=headers(accounts, library.owner))
        for name in ("paid", "subscribers"):
            item = item_of(response, shelf[name])
            assert item["locked"] is False and item["playback_token"]

    def test_a_buyer_sees_it_unlocked(self, client, accounts, viewer, shelf, shop):
        shop.buy(viewer["user"]["id"], "video", shelf["paid"]["id"])
        item = item_of(client.get("/dashboard", headers=headers(accounts, viewer)), shelf["paid"])
        assert item["locked"] is False
        assert client.get(media_url_of(item, item["playback_token"])).status_code == 200

    def test_a_preview_token_keeps_the_playback_token_checks(
        self, client, accounts, viewer, shelf, shop
    ):
        item = item_of(client.get("/videos", headers=headers(accounts, viewer)), shelf["paid"])
        preview = token_of(item)
        claims = decode(client, preview)
        assert claims["scp"] == "preview" and claims["vid"] == item["id"]
        other = f"/video/{shelf['free']['id']}/thumbnail?token={preview}"
        assert_error(client.get(other), 403, "token_wrong_video")
        assert_error(client.get(item["thumbnail_url"] + "x"), 401, "invalid_token")
        # Bought since: the preview token still opens neither the media nor /stream.
        shop.buy(viewer["user"]["id"], "video", shelf["paid"]["id"])
        assert_error(client.get(media_url_of(item, preview)), 403, "token_preview_only")
        stream = client.get(
            f"/video/{item['id']}/stream?token={preview}", headers=headers(accounts, viewer)
        )
        assert_error(stream, 403, "playback_token_preview_only")
        client.post("/auth/logout", headers=headers(accounts, viewer))
        assert_error(client.get(item["thumbnail_url"]), 401, "session_revoked")

    def test_a_page_of_locked_items_costs_a_few_lookups_each(
        self, client, accounts, viewer, library, multi_chunk_mp4, shop, creator_id, monkeypatch
    ):
        shop.plan(creator_id)
        for number in range(8):
            library.ready_video(multi_chunk_mp4, title=f"M{number}", access="subscribers")
            library.ready_video(multi_chunk_mp4, title=f"P{number}", access="paid", price=PRICE)
        calls = count_lookups(monkeypatch)
        response = client.get("/dashboard?per_page=16", headers=headers(accounts, viewer))
        assert [item["locked"] for item in response.json["videos"]] == [True] * 16
        # Per paid item: its priced courses and the purchases; per creator: its plan and
        # whether the caller subscribes, once a page.
        assert calls == {"courses": 8, "purchases": 8, "subscriptions": 1, "plans": 1}


def count_lookups(monkeypatch):
    from models import course, plan, purchase, subscription

    calls = dict.fromkeys(("courses", "purchases", "subscriptions", "plans"), 0)
    for name, module, function in (
        ("courses", course, "priced_containing"),
        ("purchases", purchase, "holds_any"),
        ("subscriptions", subscription, "is_active"),
        ("plans", plan, "find"),
    ):
        original = getattr(module, function)

        def counted(*args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, function, counted)
    return calls


def token_of(item):
    return parse_qs(urlsplit(item["thumbnail_url"]).query)["token"][0]


def media_url_of(item, token):
    return item["thumbnail_url"].split("/thumbnail?")[0] + f"/media?token={token}"


def decode(client, token):
    with client.application.app_context():
        return tokens.decode(token, tokens.PLAYBACK)


def assert_thumbnail_only(client, item):
    """The item's thumbnail loads with no header; its token never plays the media."""
    picture = client.get(item["thumbnail_url"])
    assert picture.status_code == 200 and picture.headers["Content-Type"] == "image/jpeg"
    assert_error(client.get(media_url_of(item, token_of(item))), 403, "token_preview_only")


BAD_PRICES = [
    pytest.param(-1, id="negative"),
    pytest.param(0, id="zero"),
    pytest.param(9.99, id="fractional"),
    pytest.param(10.0, id="float"),
    pytest.param(True, id="bool"),
    pytest.param(10**12, id="huge"),
    pytest.param("500", id="string"),
    pytest.param({"$gt": 0}, id="object"),
]


class TestEditingAccess:
    @pytest.fixture
    def video(self, library, multi_chunk_mp4):
        return library.ready_video(multi_chunk_mp4)

    def patch(self, client, accounts, bundle, video, body):
        return client.patch(f"/video/{video['id']}", json=body, headers=headers(accounts, bundle))

    @pytest.mark.parametrize("price", BAD_PRICES)
    def test_a_bad_price_is_400_naming_it(self, client, accounts, library, video, price):
        response = self.patch(
            client, accounts, library.owner, video, {"access": "paid", "price": price}
        )
        body = assert_error(response, 400, "invalid_price")
        assert list(body["details"]) == ["price"] and "price" in body["error"].lower()

    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            ({"access": "free", "price": PRICE}, 400, "price_not_allowed"),
            ({"access": "subscribers", "price": PRICE}, 400, "price_not_allowed"),
            ({"access": "paid", "price": None}, 400, "validation_error"),
            ({"price": None}, 400, "validation_error"),
            # What the video is now decides these: a conflict with its state.
            ({"price": PRICE}, 409, "price_not_allowed"),  # the video is free
            ({"access": "paid"}, 409, "price_required"),  # and it has no price
        ],
    )
    def test_a_price_that_does_not_fit_the_level_is_refused(
        self, client, accounts, library, video, body, status, code
    ):
        response = self.patch(client, accounts, library.owner, video, body)
        assert list(assert_error(response, status, code)["details"]) == ["price"]

    def test_an_unknown_level_is_400_naming_it(self, client, accounts, library, video):
        response = self.patch(client, accounts, library.owner, video, {"access": "premium"})
        details = assert_error(response, 400)["details"]
        assert list(details) == ["access"] and "subscribers" in details["access"][0]

    def test_owner_sets_changes_and_clears_the_price(self, client, accounts, library, video):
        owner = library.owner
        body = self.patch(client, accounts, owner, video, {"access": "paid", "price": 1200}).json
        assert (body["video"]["access"], body["video"]["price"]) == ("paid", 1200)
        body = self.patch(client, accounts, owner, video, {"price": 1500}).json
        assert body["video"]["price"] == 1500
        body = self.patch(client, accounts, owner, video, {"title": "Renamed"}).json
        assert body["video"]["price"] == 1500
        body = self.patch(client, accounts, owner, video, {"access": "free"}).json
        assert (body["video"]["access"], body["video"]["price"]) == ("free", None)
        with client.application.app_context():
            assert get_db().videos.find_one({"_id": ObjectId(video["id"])})["price"] is None
        body = self.patch(client, accounts, owner, video, {"access": "subscribers"}).json
        assert (body["video"]["access"], body["video"]["price"]) == ("subscribers", None)

    def test_only_owner_or_admin(self, client, accounts, viewer, video):
        response = self.patch(client, accounts, viewer, video, {"access": "paid", "price": 100})
        assert_error(response, 403, "not_owner")
        admin = accounts.user_with_token("admin")
        response = self.patch(client, accounts, admin, video, {"access": "paid", "price": 100})
        assert response.status_code == 200 and response.json["video"]["price"] == 100


class TestUploadAccess:
    @pytest.mark.parametrize(
        ("fields", "field", "code"),
        [
            ({"access": "paid", "price": "-1"}, "price", "invalid_price"),
            ({"access": "paid", "price": "0"}, "price", "invalid_price"),
            ({"access": "paid", "price": "9.99"}, "price", "invalid_price"),
            ({"access": "paid", "price": "10.0"}, "price", "invalid_price"),
            ({"access": "paid", "price": "true"}, "price", "invalid_price"),
            ({"access": "paid", "price": "1" * 25}, "price", "invalid_price"),
            ({"access": "paid", "price": "five"}, "price", "invalid_price"),
            ({"access": "paid"}, "price", "price_required"),
            ({"price": "500"}, "price", "price_not_allowed"),
            ({"access": "subscribers", "price": "500"}, "price", "price_not_allowed"),
            ({"access": "premium"}, "access", None),
        ],
    )
    def test_bad_access_fields_are_400_and_store_nothing(
        self, app, client, accounts, library, multi_chunk_mp4, fields, field, code
    ):
        response = upload(client, headers(accounts, library.owner), multi_chunk_mp4, **fields)
        details = assert_error(response, 400, code)["details"]
        assert list(details) == [field]
        if field == "access":  # refused as a level, not as an unknown field
            assert "subscribers" in details["access"][0]
        with app.app_context():
            assert get_db().videos.count_documents({}) == 0
            assert get_db()["fs.files"].count_documents({}) == 0

    def test_a_paid_upload_keeps_its_price(self, client, accounts, library, multi_chunk_mp4):
        response = upload(
            client,
            headers(accounts, library.owner),
            multi_chunk_mp4,
            access="paid",
            price=str(PRICE),
        )
        assert response.status_code == 202, response.json
        video = response.json["video"]
        assert (video["access"], video["price"], video["currency"]) == ("paid", PRICE, "USD")
