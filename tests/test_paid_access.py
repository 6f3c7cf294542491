"""Paid and subscribers' videos: who may watch, and locked listing items
(docs/playback.md#locked-items). Both backends. The price fields: test_access_fields.py.

Purchases, subscriptions, plans and courses are inserted as documents, in the shapes their
models document (models/purchase.py, models/subscription.py, models/plan.py,
models/course.py): the access rule reads them as they are now, on every request.
"""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from bson import ObjectId

from models.common import utcnow
from services import tokens
from tests.support.errors import assert_error
from tests.support.records import PLAN_PRICE, PRICE, Records


@pytest.fixture
def shop(app):
    return Records(app)


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
