"""A shop for the payment tests: a creator's paid videos and courses, a buyer, purchases
through the API, and the sandbox's webhooks delivered through the Flask test client."""

import uuid
from urllib.parse import urlsplit

from bson import ObjectId

from models import video as videos
from models.common import object_id, utcnow
from models.db import get_db

VISA = "pm_card_visa"
DECLINED = "pm_card_chargeDeclined"
AUTHENTICATION = "pm_card_authenticationRequired"


def client_transport(client):
    """A webhook deliverer's transport that posts through ``client`` (no socket)."""

    def post(url, body, headers):
        return client.post(urlsplit(url).path, data=body, headers=headers).status_code

    return post


class Shop:
    def __init__(self, app, client, accounts):
        self.app, self.client, self.accounts = app, client, accounts
        self.creator = accounts.user_with_token("creator")
        self.buyer = accounts.user_with_token("viewer")
        self.deliverer = app.extensions["payment_jobs"].deliverer
        self.deliverer.transport = client_transport(client)

    def video(self, owner=None, **fields):
        """A ready public video (paid, 500 cents unless told), stored directly."""
        owner = owner or self.creator
        with self.app.app_context():
            document = videos.insert(
                {
                    "owner_id": object_id(owner["user"]["id"]),
                    "owner_name": owner["user"]["name"],
                    "title": fields.pop("title", "Paid clip"),
                    "description": "",
                    "visibility": fields.pop("visibility", "public"),
                    "kind": "video",
                }
            )
            ready = {"status": videos.READY, "access": "paid", "price": 500, "duration": 2.0}
            videos.update(document["_id"], **{**ready, **fields})
        return str(document["_id"])

    def course(self, price=1500, video_ids=(), owner=None, **fields):
        owner = owner or self.creator
        document = {
            "_id": ObjectId(),
            "owner_id": object_id(owner["user"]["id"]),
            "title": "A course",
            "description": "",
            "category": "education",
            "price": price,
            "video_ids": [ObjectId(v) for v in video_ids],
            "created_at": utcnow(),
            "updated_at": utcnow(),
            "deleted_at": None,
            **fields,
        }
        with self.app.app_context():
            get_db().courses.insert_one(document)
        return str(document["_id"])

    def buy(self, body, bundle=None, key="new", client=None):
        """POST /purchases; ``key="new"``: a fresh Idempotency-Key, None: no header."""
        headers = self.accounts.bearer(bundle or self.buyer)
        if key == "new":
            key = uuid.uuid4().hex
        if key is not None:
            headers["Idempotency-Key"] = key
        return (client or self.client).post("/purchases", json=body, headers=headers)

    def buy_video(self, video_id, method=VISA, **kwargs):
        return self.buy({"video_id": video_id, "payment_method": method}, **kwargs)

    def may_watch(self, video_id, bundle=None):
        """services.access.may_watch for the buyer (or ``bundle``'s user): the rule the
        playback token and media routes apply."""
        from models import user as users
        from services.access import Caller, may_watch

        user_id = (bundle or self.buyer)["user"]["id"]
        with self.app.app_context():
            caller = Caller(users.find_by_id(user_id), "test-session")
            return may_watch(caller, videos.find(video_id))

    def deliver(self):
        return self.deliverer.deliver_due()

    def admin(self):
        return self.accounts.user_with_token("admin")

    def refund(self, purchase_id, bundle=None):
        headers = self.accounts.bearer(bundle or self.admin())
        return self.client.post(f"/purchases/{purchase_id}/refund", headers=headers)

    # What the database holds.

    def db(self, name):
        with self.app.app_context():
            return list(get_db()[name].find())

    def purchase(self, purchase_id):
        with self.app.app_context():
            return get_db().purchases.find_one({"_id": ObjectId(purchase_id)})

    def ledger(self):
        return self.db("ledger")

    def charges(self):
        return self.db("sandbox_payments")
