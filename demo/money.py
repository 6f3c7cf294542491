"""The seed's money (development only): the demo creator's plan, a priced course, and a
demo buyer's purchase and subscription, all through the real services and the configured
payment provider (the sandbox by default), never by writing their documents.

Idempotent: what exists is left alone, and the buyer's payments are made with idempotency
keys derived from the seed (``seed:...``), so a second run replays the first answer and
charges nothing. The seed runs where no request is (no host for the sandbox's webhook URL
unless PUBLIC_BASE_URL is set): the sandbox then queues no webhook, and a ``pm_card_visa``
charge settles synchronously anyway (services.payments.settlement.apply_charge). With
PUBLIC_BASE_URL set, its webhook is queued too and settles nothing twice.

Buying a paid video needs it ready: ``sell_when_ready`` waits for its processing (on a
daemon thread for ``make run``, whose server starts at once).
"""

import json
import logging
import threading
import time

from models import course as courses
from models import plan as plans
from models import user as users
from models import video as videos
from services import access, idempotency, purchases, subscriptions
from services import courses as course_service
from services import plans as plan_service
from services.errors import ServiceError

log = logging.getLogger("seed")

CREATOR_EMAIL = "creator@example.com"
BUYER_EMAIL = "buyer@example.com"
PLAN_PRICE = 499
PAYMENT_METHOD = "pm_card_visa"
COURSE = {
    "key": "demo-course",
    "title": "Demo Course",
    "description": "A priced course: buying it opens its paid video too.",
    "category": "demo",
    "price": 999,
}
COURSE_VIDEO_KEYS = ["demo-paid", "demo-sunrise"]  # in this order
PAID_VIDEO_KEY = "demo-paid"
WAIT_SECONDS = 600


def caller_of(email):
    """The services' Caller for a demo account (no login session: the seed's own)."""
    user = users.find_by_email(email)
    return None if user is None else access.Caller(user=user, session_id="seed")


def seeded_video(key):
    return videos.collection().find_one({"seed_key": key})


def ensure_plan(creator):
    """The demo creator's monthly plan, unless it has one (a price changed by hand stays)."""
    if plans.find(creator.user["_id"]) is None:
        plan_service.set_plan(creator, PLAN_PRICE)
        log.info("demo plan: %s a month", PLAN_PRICE)


def ensure_course(creator):
    """The priced demo course with its videos in order; the course, found or made."""
    found = courses.collection().find_one({"seed_key": COURSE["key"]})
    if found is not None:
        return found
    fields = {name: COURSE[name] for name in ("title", "description", "category", "price")}
    course = course_service.create(creator, fields)
    courses.update(course["_id"], seed_key=COURSE["key"])
    ids = [str(seeded_video(key)["_id"]) for key in COURSE_VIDEO_KEYS]
    course_service.set_videos(creator, str(course["_id"]), ids)
    log.info("demo course %r (%s)", COURSE["title"], course["_id"])
    return courses.find(course["_id"])


def _paid(action, path, fields, key, caller):
    """``action`` (purchases.buy or subscriptions.subscribe) as the API runs it, with the
    seed's key; a replay of the first run's answer on a second run."""
    body = json.dumps(fields, sort_keys=True).encode()
    fingerprint = idempotency.fingerprint("POST", path, body)
    try:
        return action(caller, fields, key, fingerprint)[1]
    except ServiceError as error:
        log.warning("demo payment %s refused: %s (%s)", key, error.message, error.code)
        return None


def subscribe(buyer, creator):
    fields = {"creator_id": str(creator.user["_id"]), "payment_method": PAYMENT_METHOD}
    key = f"seed:subscription:{creator.user['_id']}"
    return _paid(subscriptions.subscribe, "/subscriptions", fields, key, buyer)


def buy(buyer, video):
    fields = {"video_id": str(video["_id"]), "payment_method": PAYMENT_METHOD}
    key = f"seed:purchase:{PAID_VIDEO_KEY}"
    return _paid(purchases.buy, "/purchases", fields, key, buyer)


def ensure_catalogue():
    """The plan, the course and the buyer's subscription (none needs a ready video)."""
    creator, buyer = caller_of(CREATOR_EMAIL), caller_of(BUYER_EMAIL)
    if creator is None or buyer is None:
        return
    ensure_plan(creator)
    ensure_course(creator)
    subscribe(buyer, creator)


def ready_paid_video(timeout):
    """The seeded paid video once processed (polled), or None (failed, gone, too long)."""
    deadline = time.monotonic() + timeout
    while True:
        video = seeded_video(PAID_VIDEO_KEY)
        if video is None or video["status"] == videos.READY:
            return video
        if video["status"] == videos.FAILED or time.monotonic() >= deadline:
            log.warning("the demo paid video is %s: no demo purchase", video["status"])
            return None
        time.sleep(0.5)


def sell_when_ready(app, timeout=WAIT_SECONDS):
    """The buyer's purchase of the paid video, once it is ready; the purchase or None."""
    with app.app_context():
        buyer, video = caller_of(BUYER_EMAIL), ready_paid_video(timeout)
        if buyer is None or video is None:
            return None
        return buy(buyer, video)


def sell_in_background(app):
    """``sell_when_ready`` on a daemon thread (``make run``: the server starts meanwhile)."""
    thread = threading.Thread(target=sell_when_ready, args=(app,), name="seed-sales", daemon=True)
    thread.start()
    return thread
