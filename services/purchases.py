"""One-time purchases of a video or a course: ``POST /purchases``, ``GET /me/purchases``,
and the admin's refund.

A purchase is made pending first, holding the item (models.purchase: the unique
``holding`` index makes two racing purchases one purchase and a 409), then charged
(services.payments.charging: the provider's idempotency key comes from the purchase id),
then settled (services.payments.settlement). See docs/payments.md for the money's path.

Buying one's own item is 409 ``own_item`` (the owner watches it already; nothing to sell).
"""

from bson import ObjectId

from models import course as courses
from models import purchase as purchases
from models import video as videos
from models.common import object_id, utcnow
from models.vocabulary import COURSE_ITEM, PAID, VIDEO_ITEM
from services import access, idempotency, money, pagination
from services.errors import Conflict, InvalidInput, NotFound, Unavailable
from services.payments import answers, charging, factory, settlement
from services.payments.provider import (
    ProviderUnavailable,
)

NOT_FOR_SALE = "This item is not for sale (it is free, or for subscribers)."


def buy(caller, fields, key, request_fingerprint):
    """``POST /purchases``: (201, {purchase}) once per Idempotency-Key (services.idempotency)."""
    factory.provider()  # 503 payments_not_configured before anything
    key = idempotency.require_key(key)
    return idempotency.once(
        caller.user["_id"], key, request_fingerprint, lambda: _buy(caller, fields, key)
    )


def _buy(caller, fields, key):
    provider = factory.provider()
    # A retry of a request that got no answer (the provider or the database away) resumes
    # its purchase: charging it again returns its first payment.
    purchase = purchases.made_with(caller.user["_id"], key)
    if purchase is not None and not _same_request(purchase, fields):
        raise idempotency.KeyReused(f"This {idempotency.HEADER} was used for another request.")
    if purchase is None:
        purchase = _open(caller, _item(caller, fields), fields, key, provider)
    answers.charged(
        settlement.PURCHASE,
        purchase["_id"],
        lambda: charging.charge(provider, purchase),
        discard=lambda: purchases.discard(purchase["_id"]),
        fail=lambda reason: settlement.PurchaseSettlement.failed(purchase["_id"], reason),
        what="purchase",
    )
    return 201, {"purchase": purchases.find(purchase["_id"])}


def _same_request(purchase, fields):
    item_type = VIDEO_ITEM if fields.get("video_id") is not None else COURSE_ITEM
    item_id = fields.get("video_id") or fields.get("course_id")
    asked = (item_type, str(item_id).lower(), fields["payment_method"])
    return asked == (
        purchase["item"]["type"],
        str(purchase["item"]["id"]),
        purchase["payment_method"],
    )


def _item(caller, fields):
    """(type, id, price, creator id) of what ``fields`` name, if it may be bought."""
    if fields.get("video_id") is not None:
        return _video(caller, fields["video_id"])
    course = courses.collection().find_one(
        {"_id": object_id(fields["course_id"]), "deleted_at": None}
    )
    if course is None:
        raise NotFound("No such course.", code="course_not_found")
    _not_own(caller, course["owner_id"])
    return COURSE_ITEM, course["_id"], _price(course), course["owner_id"]


def _video(caller, video_id):
    video = access.video_seen_by(caller, video_id)  # 404 for unknown, hidden or deleted
    _not_own(caller, video["owner_id"])
    if video["status"] != videos.READY:
        raise Conflict("The video is not ready.", code="video_not_ready")
    if video.get("access") != PAID:
        raise InvalidInput(NOT_FOR_SALE, code="not_for_sale")
    price = _price(video)
    if access.may_watch(caller, video):
        raise Conflict("You may already watch this video.", code="already_owned")
    return VIDEO_ITEM, video["_id"], price, video["owner_id"]


def _not_own(caller, owner_id):
    if owner_id == caller.user["_id"]:
        raise Conflict("This is your own item: you have it already.", code="own_item")


def _price(item):
    price = item.get("price")
    if isinstance(price, bool) or not isinstance(price, int) or price <= 0:
        raise InvalidInput(NOT_FOR_SALE, code="not_for_sale")
    return price


def _open(caller, item, fields, key, provider):
    """The new pending purchase; 409 when the item is held by another purchase."""
    item_type, item_id, price, creator_id = item
    user_id = caller.user["_id"]
    now = utcnow()
    document = {
        "_id": ObjectId(),
        "user_id": user_id,
        "item": {"type": item_type, "id": item_id},
        "creator_id": creator_id,
        "amount": price,
        "currency": money.currency(),
        "status": purchases.PENDING,
        "payment_id": None,
        "provider": provider.name,
        "payment_method": fields["payment_method"],
        "request_key": key,
        "failure_reason": None,
        "created_at": now,
        "settled_at": None,
        "refunded_at": None,
        "holding": purchases.holding_key(user_id, item_type, item_id),
    }
    if purchases.insert(document) is not None:
        return document
    held = purchases.holding(user_id, item_type, item_id)
    if held is None:  # it failed or was refunded meanwhile: the item is free again
        return _open(caller, item, fields, key, provider)
    if held["status"] == purchases.SUCCEEDED:
        raise Conflict("You have bought this already.", code="already_owned")
    raise Conflict("A purchase of this item is pending.", code="purchase_pending")


def listing(caller, per_page, cursor=None):
    """(purchases, pagination) of the caller's purchases, newest first."""
    user_id = caller.user["_id"]
    scope = pagination.list_scope("purchases", user=str(user_id))

    def read_page(after, window):
        return purchases.page_of_user(user_id, per_page, after, window)

    return pagination.list_page(scope, cursor, per_page, read_page)


def refund(purchase_id):
    """``POST /purchases/{id}/refund`` (admins): the money back, access ends, ledger reversed."""
    purchase = purchases.find(object_id(purchase_id))
    if purchase is None:
        raise NotFound("No such purchase.", code="purchase_not_found")
    if purchase["status"] != purchases.SUCCEEDED:
        raise Conflict(
            f"Only a succeeded purchase can be refunded; this one is {purchase['status']}.",
            code="not_refundable",
        )
    provider = factory.provider()
    key = charging.idempotency_key(purchase["_id"], "refund")
    try:
        provider.refund(purchase["payment_id"], idempotency_key=key)
    except ProviderUnavailable as error:
        message = "The payment provider cannot be reached; retry the refund shortly."
        raise Unavailable(message, code="payment_provider_unavailable") from error
    settlement.PurchaseSettlement.refunded(purchase["_id"], purchase["payment_id"])
    return purchases.find(purchase["_id"])


def sandbox_authenticate(app_env, payment_id):
    """``POST /payments/sandbox/{id}/authenticate``: 404 in production or off the sandbox."""
    provider = factory.provider()
    if app_env == "production" or provider.name != "sandbox":
        raise NotFound("No such route.", code="not_found")
    payment = provider.authenticate(payment_id)
    return {"payment": {"id": payment["_id"], "status": payment["status"]}}
