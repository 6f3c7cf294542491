"""Money records (purchases, subscriptions, plans, courses) written straight into the
database in the shapes their models document, for the tests of who may watch
(test_paid_access.py): the access rule reads them as they are now, on every request."""

import time

from bson import ObjectId

from models.common import utcnow
from models.db import get_db
from services.playback_memo import REMEMBER_SECONDS

PRICE, PLAN_PRICE = 500, 799


class Records:
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
        seen_by_players()

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
        seen_by_players()

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


def seen_by_players():
    """A change written straight to the database is one another process made (a sweep, a
    webhook another worker took): a player's requests see it once what this process
    remembered of their checks has expired (services.playback_memo, at most a second)."""
    time.sleep(REMEMBER_SECONDS)
