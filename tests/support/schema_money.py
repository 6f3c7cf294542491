"""The money routes (docs/payments.md, courses.md, earnings.md) in tests/test_api_schema.py.

Real objects (``add_real_objects``): the creator sells a paid video (``paid_id``), a
subscription plan and three priced courses (``course_id`` is only read and bought,
``course_edit_id`` takes the PATCHes and video orders, ``course_victim_id`` the deletes and
restores); the viewer owns two purchases and a subscription (so its lists have real cursors);
``pending_payment_id`` is a sandbox payment waiting for the bank
(``POST /payments/sandbox/{payment_id}/authenticate``: 200 then and every time after).

What cannot be shared is made per case, at call time: ``POST /purchases`` and ``POST
/subscriptions`` run as a fresh viewer (one live purchase / subscription per user and item,
and no Idempotency-Key of a former case to collide with); a refund takes a fresh succeeded
purchase or active subscription (``FRESH_PURCHASE_MARK``, ``FRESH_SUBSCRIPTION_MARK``);
``DELETE /subscriptions/{id}`` a subscription of the case's own fresh viewer
(``OWN_SUBSCRIPTION_MARK``). ``POST /payments/webhook`` sometimes carries a real event signed
with the sandbox's secret (``SIGNED_MARK``): a body it cannot document a signature for.
"""

import json
import uuid

import jwt

from services.payments import signing

CARD = "pm_card_visa"
PRICE = 500
FRESH_PURCHASE_MARK = "fresh-purchase"
FRESH_SUBSCRIPTION_MARK = "fresh-subscription"
OWN_SUBSCRIPTION_MARK = "own-subscription"
SIGNED_MARK = "signed-event"
PRIVILEGED = {
    "POST /courses": "creator",
    "PATCH /courses/{course_id}": "creator",
    "DELETE /courses/{course_id}": "creator",
    "POST /courses/{course_id}/restore": "admin",
    "PUT /courses/{course_id}/videos": "creator",
    "POST /videos/batch": "creator",
    "PUT /me/subscription-plan": "creator",
    "GET /me/subscription-plan": "creator",
    "GET /me/earnings": "creator",
    "GET /admin/revenue": "admin",
    "POST /purchases/{purchase_id}/refund": "admin",
    "POST /subscriptions/{subscription_id}/refund": "admin",
}
FRESH_ACCOUNT = {
    "POST /purchases",
    "POST /subscriptions",
    "DELETE /subscriptions/{subscription_id}",
}
LIST_ROUTES = ("/courses", "/me/purchases", "/me/subscriptions")


def add_real_objects(world, real, source_name):
    http, creator = world.http, world.http.bearer(world.tokens["creator"])
    fields = {"title": "Schema paid", "visibility": "public", "access": "paid", "price": PRICE}
    reply = http.upload(
        "/video/upload", fields, source_name, real["upload_bytes"], "video/mp4", headers=creator
    )
    assert reply.status == 202, reply.body[:300]
    real["paid_id"] = reply.json()["video"]["id"]
    http.wait_until_ready(real["paid_id"], world.tokens["creator"])
    real["creator_user_id"] = _subject(world.tokens["creator"])
    _ok(http.request("PUT", "/me/subscription-plan", {"price": 300}, headers=creator))
    for key in ("course_id", "course_edit_id", "course_victim_id"):
        body = {"title": f"Schema {key}", "price": 1500}
        real[key] = _ok(http.request("POST", "/courses", body, headers=creator))["course"]["id"]
    body = {"video_ids": [real["video_id"], real["paid_id"]]}
    _ok(http.request("PUT", f"/courses/{real['course_id']}/videos", body, headers=creator))
    viewer = world.tokens["viewer"]
    buy(world, viewer, {"video_id": real["paid_id"]})
    buy(world, viewer, {"course_id": real["course_id"]})
    subscribe(world, viewer, real)
    pending = buy(world, world.fresh_token("viewer"), {"video_id": real["paid_id"]}, "auth")
    assert pending["status"] == "pending", pending
    real["pending_payment_id"] = pending["payment_id"]


def _subject(token):
    return jwt.decode(token, options={"verify_signature": False})["sub"]


def _ok(reply):
    assert reply.status < 300, reply.body[:300]
    return reply.json()


def _paying(world, token, path, body):
    headers = {**world.http.bearer(token), "Idempotency-Key": uuid.uuid4().hex}
    reply = world.http.request("POST", path, body, headers=headers)
    assert reply.status == 201, reply.body[:300]
    return reply.json()


def buy(world, token, item, card=CARD):
    method = "pm_card_authenticationRequired" if card == "auth" else card
    return _paying(world, token, "/purchases", {**item, "payment_method": method})["purchase"]


def subscribe(world, token, real):
    body = {"creator_id": real["creator_user_id"], "payment_method": CARD}
    return _paying(world, token, "/subscriptions", body)["subscription"]


def real_path(case, params, real):
    """Real ids for the money routes' path parameters (the case's path is valid)."""
    label = f"{case.method.upper()} {case.operation.path}"
    if "course_id" in params:
        if label.startswith(("DELETE", "POST")):  # the delete and the restore
            params["course_id"] = real["course_victim_id"]
        elif label.startswith(("PATCH", "PUT")):
            params["course_id"] = real["course_edit_id"]
        else:
            params["course_id"] = real["course_id"]
    if "purchase_id" in params:
        params["purchase_id"] = FRESH_PURCHASE_MARK
    if "subscription_id" in params:
        refund = label.endswith("/refund")
        params["subscription_id"] = FRESH_SUBSCRIPTION_MARK if refund else OWN_SUBSCRIPTION_MARK
    if "payment_id" in params:
        params["payment_id"] = real["pending_payment_id"]


def real_headers(case):
    """A webhook case signs a real event at call time (``signed_event``)."""
    if case.operation.path == "/payments/webhook":
        case.headers = {**(case.headers or {}), signing.HEADER: SIGNED_MARK}


def real_body(path, body, real):
    """Bodies that can only succeed with real things: an item for sale, a card, files."""
    if path == "/purchases":
        if "course_id" in body:
            body["course_id"] = real["course_id"]
        else:
            body["video_id"] = real["paid_id"]
        body["payment_method"] = CARD
    elif path == "/subscriptions":
        body.update(creator_id=real["creator_user_id"], payment_method=CARD)
    elif path.endswith("/videos") and body.get("video_ids"):
        ids = [real["video_id"], real["paid_id"]]
        body["video_ids"] = ids[: len(body["video_ids"])]
    elif path == "/videos/batch":
        files = body.get("file")
        files = files if isinstance(files, list) and files else [b""]
        # The first a real video (the transcoder's work per case), the others as generated
        # (not media: 422 in their results), and one title per file.
        body["file"] = [real["upload_bytes"], *files[1:]]
        body["titles"] = json.dumps([f"Schema batch {n}" for n in range(len(files))])


def at_call(case, world, real):
    """Swap the marks left above for objects made now; extra arguments for ``case.call``."""
    params = case.path_parameters
    if isinstance(params, dict):
        token = (case.headers or {}).get("Authorization", "").removeprefix("Bearer ")
        if params.get("purchase_id") == FRESH_PURCHASE_MARK:
            fresh = world.fresh_token("viewer")
            params["purchase_id"] = buy(world, fresh, {"video_id": real["paid_id"]})["id"]
        if params.get("subscription_id") == FRESH_SUBSCRIPTION_MARK:
            params["subscription_id"] = subscribe(world, world.fresh_token("viewer"), real)["id"]
        if params.get("subscription_id") == OWN_SUBSCRIPTION_MARK and token.count(".") == 2:
            params["subscription_id"] = subscribe(world, token, real)["id"]
    if (case.headers or {}).get(signing.HEADER) == SIGNED_MARK:
        return signed_event(case, world, real)
    return {}


def signed_event(case, world, real):
    """A ``payment.succeeded`` event about the pending payment, signed now: processed once,
    then a duplicate or a no-op, 200 every time (docs/payments.md#webhooks)."""
    body = {
        "id": f"evt_schema_{uuid.uuid4().hex}",
        "type": "payment.succeeded",
        "created": 0,
        "data": {"object": {"id": real["pending_payment_id"], "failure_reason": None}},
    }
    payload = json.dumps(body).encode()
    secret = world.server.app.config["SANDBOX_WEBHOOK_SECRET"]
    case.headers[signing.HEADER] = signing.header(secret, payload)
    case.headers["Content-Type"] = "application/json"
    return {"data": payload}
