"""The access fields of a video: ``access`` and ``price`` at upload and by PATCH, and what
each refuses (docs/videos.md#access-and-price). Both backends."""

import pytest
from bson import ObjectId

from models.db import get_db
from tests.support.errors import assert_error
from tests.support.uploads import upload

PRICE = 500


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
        return client.patch(f"/video/{video['id']}", json=body, headers=accounts.bearer(bundle))

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
        response = upload(client, accounts.bearer(library.owner), multi_chunk_mp4, **fields)
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
            accounts.bearer(library.owner),
            multi_chunk_mp4,
            access="paid",
            price=str(PRICE),
        )
        assert response.status_code == 202, response.json
        video = response.json["video"]
        assert (video["access"], video["price"], video["currency"]) == ("paid", PRICE, "USD")
