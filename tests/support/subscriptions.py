"""A club for the subscription tests: a creator with a plan, a subscriber, subscriptions
through the API, the renewal job run with a moved clock (tests/support/payments.Shop)."""

import uuid
from datetime import timedelta

from bson import ObjectId

from models.common import utcnow
from models.db import get_db
from tests.support.payments import VISA, Shop

DAYS = 30


class Club(Shop):
    def __init__(self, app, client, accounts, price=700):
        super().__init__(app, client, accounts)
        self.price = price
        if price is not None:
            self.plan(price)

    def plan(self, price, bundle=None):
        headers = self.accounts.bearer(bundle or self.creator)
        response = self.client.put("/me/subscription-plan", json={"price": price}, headers=headers)
        assert response.status_code == 200, response.json

    def subscribe(self, method=VISA, creator=None, bundle=None, key="new", client=None):
        headers = self.accounts.bearer(bundle or self.buyer)
        if key == "new":
            key = uuid.uuid4().hex
        if key is not None:
            headers["Idempotency-Key"] = key
        creator_id = (
            creator if isinstance(creator, str) else (creator or self.creator)["user"]["id"]
        )
        body = {"creator_id": creator_id, "payment_method": method}
        return (client or self.client).post("/subscriptions", json=body, headers=headers)

    def subscribed(self, method=VISA, **kwargs):
        response = self.subscribe(method, **kwargs)
        assert response.status_code == 201, response.json
        return response.json["subscription"]

    def cancel(self, subscription_id, bundle=None):
        headers = self.accounts.bearer(bundle or self.buyer)
        return self.client.delete(f"/subscriptions/{subscription_id}", headers=headers)

    def refund_subscription(self, subscription_id, bundle=None):
        headers = self.accounts.bearer(bundle or self.admin())
        return self.client.post(f"/subscriptions/{subscription_id}/refund", headers=headers)

    def authenticate(self, payment_id):
        return self.client.post(f"/payments/sandbox/{payment_id}/authenticate")

    def subscription(self, subscription_id):
        with self.app.app_context():
            return get_db().subscriptions.find_one({"_id": ObjectId(subscription_id)})

    def set_method(self, subscription_id, method):
        with self.app.app_context():
            get_db().subscriptions.update_one(
                {"_id": ObjectId(subscription_id)}, {"$set": {"payment_method": method}}
            )

    def renew(self, days_later=DAYS, seconds=1):
        """Run the renewal job as if ``days_later`` days (and ``seconds``) had gone by."""
        now = utcnow() + timedelta(days=days_later, seconds=seconds)
        return self.app.extensions["subscription_renewals"].run(now)

    def video(self, owner=None, **fields):
        return super().video(owner, **{"access": "subscribers", "price": None, **fields})

    def watch_refusal(self, video_id, bundle=None):
        """services.access.watch_refusal for the buyer: the 403 the media routes raise."""
        from models import user as users
        from models import video as videos
        from services.access import Caller, watch_refusal

        user_id = (bundle or self.buyer)["user"]["id"]
        with self.app.app_context():
            caller = Caller(users.find_by_id(user_id), "test-session")
            return watch_refusal(caller, videos.find(video_id))

    def may_watch_at(self, video_id, moment, bundle=None):
        """may_watch with the clock at ``moment`` (models.subscription.is_active's now)."""
        from models import subscription as subscriptions

        original = subscriptions.utcnow
        subscriptions.utcnow = lambda: moment
        try:
            return self.may_watch(video_id, bundle)
        finally:
            subscriptions.utcnow = original
