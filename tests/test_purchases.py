"""``POST /purchases``, ``GET /me/purchases`` and refunds, on the sandbox provider
(docs/payments.md)."""

import pytest

from models.common import utcnow
from tests.support.accounts import Accounts
from tests.support.payments import AUTHENTICATION, DECLINED, VISA, Shop


@pytest.fixture
def shop(app, client, accounts):
    return Shop(app, client, accounts)


def test_buying_a_paid_video_settles_it_and_opens_playback(shop):
    video_id = shop.video(price=999)
    assert not shop.may_watch(video_id)

    response = shop.buy_video(video_id)

    assert response.status_code == 201, response.json
    purchase = response.json["purchase"]
    assert purchase["status"] == "succeeded"
    assert purchase["item"] == {"type": "video", "id": video_id}
    assert (purchase["amount"], purchase["currency"]) == (999, "USD")
    assert purchase["created_at"].endswith("Z")
    [sale] = shop.ledger()
    assert (sale["kind"], sale["gross"], sale["creator_share"], sale["platform_share"]) == (
        "sale",
        999,
        799,
        200,
    )
    assert str(sale["creator_id"]) == shop.creator["user"]["id"]
    assert shop.may_watch(video_id)
    assert len(shop.charges()) == 1


def test_a_declined_card_is_402_with_the_reason_and_the_item_stays_for_sale(shop):
    video_id = shop.video()
    response = shop.buy_video(video_id, DECLINED)
    assert response.status_code == 402
    assert response.json["code"] == "payment_failed"
    assert response.json["error"] == "Your card was declined."
    assert shop.ledger() == []
    assert not shop.may_watch(video_id)
    [failed] = shop.db("purchases")
    assert failed["status"] == "failed" and "holding" not in failed

    assert shop.buy_video(video_id, VISA).status_code == 201


def test_authentication_required_stays_pending_until_the_bank_and_its_webhook(shop):
    video_id = shop.video()
    response = shop.buy_video(video_id, AUTHENTICATION)
    assert response.status_code == 201
    assert response.json["purchase"]["status"] == "pending"
    assert not shop.may_watch(video_id)
    assert shop.deliver() == 0  # nothing settled yet, nothing to send

    payment_id = shop.purchase(response.json["purchase"]["id"])["payment_id"]
    assert shop.client.post(f"/payments/sandbox/{payment_id}/authenticate").status_code == 200
    assert shop.purchase(response.json["purchase"]["id"])["status"] == "pending"  # webhook due
    assert shop.deliver() == 1

    assert shop.purchase(response.json["purchase"]["id"])["status"] == "succeeded"
    assert len(shop.ledger()) == 1
    assert shop.may_watch(video_id)
    again = shop.client.post(f"/payments/sandbox/{payment_id}/authenticate")
    assert again.status_code == 200 and shop.deliver() == 0


def test_the_sandbox_bank_is_not_there_in_production(shop):
    video_id = shop.video()
    response = shop.buy_video(video_id, AUTHENTICATION)
    payment_id = shop.purchase(response.json["purchase"]["id"])["payment_id"]
    shop.app.config["APP_ENV"] = "production"
    assert shop.client.post(f"/payments/sandbox/{payment_id}/authenticate").status_code == 404
    shop.app.config["APP_ENV"] = "testing"
    unknown = "sbpay_" + "0" * 24
    assert shop.client.post(f"/payments/sandbox/{unknown}/authenticate").status_code == 404


def test_an_unknown_payment_method_is_400_and_charges_nothing(shop):
    video_id = shop.video()
    response = shop.buy_video(video_id, "pm_card_unknown")
    assert response.status_code == 400
    assert response.json["code"] == "invalid_payment_method"
    assert shop.charges() == [] and shop.db("purchases") == []


@pytest.mark.parametrize(
    "body",
    [
        {"payment_method": {"id": "pm_card_visa"}},
        {"payment_method": ["pm_card_visa"]},
        {"payment_method": 4242},
        {},
    ],
)
def test_a_payment_method_must_be_a_string(shop, body):
    response = shop.buy({"video_id": shop.video(), **body})
    assert response.status_code == 400
    assert shop.charges() == []


def test_exactly_one_item_is_named(shop):
    video_id = shop.video()
    course_id = shop.course()
    both = shop.buy({"video_id": video_id, "course_id": course_id, "payment_method": VISA})
    neither = shop.buy({"payment_method": VISA})
    assert both.status_code == neither.status_code == 400


def test_what_is_not_for_sale(shop, accounts):
    free = shop.video(access="free", price=None)
    subscribers = shop.video(access="subscribers", price=None)
    for video_id in (free, subscribers):
        response = shop.buy_video(video_id)
        assert (response.status_code, response.json["code"]) == (400, "not_for_sale")
    free_course = shop.course(price=None)
    response = shop.buy({"course_id": free_course, "payment_method": VISA})
    assert (response.status_code, response.json["code"]) == (400, "not_for_sale")


def test_what_cannot_be_seen_cannot_be_bought(shop, accounts):
    other = accounts.user_with_token("creator")
    hidden = [
        shop.video(status="processing"),
        shop.video(owner=other, visibility="private"),
        "0" * 24,
        shop.video(deleted_at=utcnow()),
    ]
    for video_id in hidden:
        response = shop.buy_video(video_id)
        assert (response.status_code, response.json["code"]) == (404, "video_not_found")
    gone = shop.course(deleted_at=utcnow())
    response = shop.buy({"course_id": gone, "payment_method": VISA})
    assert (response.status_code, response.json["code"]) == (404, "course_not_found")
    assert shop.charges() == []


def test_ones_own_item_is_409_own_item(shop):
    own_video = shop.buy_video(shop.video(), bundle=shop.creator)
    own_course = shop.buy({"course_id": shop.course(), "payment_method": VISA}, shop.creator)
    assert [r.json["code"] for r in (own_video, own_course)] == ["own_item", "own_item"]
    assert own_video.status_code == own_course.status_code == 409


def test_a_course_opens_its_videos_and_counts_as_owning_them(shop):
    video_id = shop.video()
    course_id = shop.course(price=2000, video_ids=[video_id])
    response = shop.buy({"course_id": course_id, "payment_method": VISA})
    assert response.status_code == 201
    assert response.json["purchase"]["item"] == {"type": "course", "id": course_id}
    assert shop.may_watch(video_id)
    again = shop.buy_video(video_id)
    assert (again.status_code, again.json["code"]) == (409, "already_owned")


def test_a_new_key_for_what_is_owned_or_pending_is_409(shop):
    owned, pending = shop.video(), shop.video()
    assert shop.buy_video(owned).status_code == 201
    assert shop.buy_video(pending, AUTHENTICATION).status_code == 201
    assert shop.buy_video(owned).json["code"] == "already_owned"
    response = shop.buy_video(pending)
    assert (response.status_code, response.json["code"]) == (409, "purchase_pending")


def test_my_purchases_are_paged_newest_first(shop):
    bought = [shop.buy_video(shop.video()).json["purchase"]["id"] for _ in range(3)]
    headers = shop.accounts.bearer(shop.buyer)
    first = shop.client.get("/me/purchases?per_page=2", headers=headers).json
    assert [p["id"] for p in first["purchases"]] == bought[::-1][:2]
    cursor = first["pagination"]["next_cursor"]
    second = shop.client.get(f"/me/purchases?per_page=2&cursor={cursor}", headers=headers).json
    assert [p["id"] for p in second["purchases"]] == bought[:1]
    others = shop.client.get("/me/purchases", headers=shop.accounts.bearer(shop.creator)).json
    assert others["purchases"] == []


def test_a_refund_ends_access_reverses_the_ledger_and_frees_the_item(shop):
    video_id = shop.video(price=999)
    purchase_id = shop.buy_video(video_id).json["purchase"]["id"]

    response = shop.refund(purchase_id)

    assert response.status_code == 200, response.json
    assert response.json["purchase"]["status"] == "refunded"
    assert not shop.may_watch(video_id)
    entries = {entry["kind"]: entry for entry in shop.ledger()}
    assert (entries["refund"]["gross"], entries["refund"]["creator_share"]) == (-999, -799)
    assert entries["refund"]["platform_share"] == -200
    assert shop.charges()[0]["status"] == "refunded"
    assert shop.deliver() >= 1  # the sandbox's payment.refunded event changes nothing more
    assert len(shop.ledger()) == 2
    assert shop.buy_video(video_id).status_code == 201


def test_a_refund_of_a_refund_or_of_a_pending_purchase_is_409(shop):
    done = shop.buy_video(shop.video()).json["purchase"]["id"]
    pending = shop.buy_video(shop.video(), AUTHENTICATION).json["purchase"]["id"]
    assert shop.refund(done).status_code == 200
    for purchase_id in (done, pending):
        response = shop.refund(purchase_id)
        assert (response.status_code, response.json["code"]) == (409, "not_refundable")
    assert len([e for e in shop.ledger() if e["kind"] == "refund"]) == 1


def test_only_admins_refund(shop):
    purchase_id = shop.buy_video(shop.video()).json["purchase"]["id"]
    assert shop.refund(purchase_id, shop.buyer).status_code == 403
    assert shop.refund("0" * 24).status_code == 404


def test_without_a_provider_the_payment_routes_are_503(make_app):
    app = make_app(PAYMENT_PROVIDER=None)
    client = app.test_client()
    buyer = Accounts(client, app).user_with_token("viewer")
    headers = {**Accounts.bearer(buyer), "Idempotency-Key": "k1"}
    body = {"video_id": "0" * 24, "payment_method": VISA}
    for response in (
        client.post("/purchases", json=body, headers=headers),
        client.post("/payments/webhook", data=b"{}"),
    ):
        assert (response.status_code, response.json["code"]) == (503, "payments_not_configured")
