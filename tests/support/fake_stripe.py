"""A fake Stripe API on a real socket, for the stripe library's own request layer to talk to.

``FakeStripe`` answers the three calls the provider makes, with bodies shaped like Stripe's:
``POST /v1/payment_intents`` (confirm=true), ``GET /v1/payment_intents/{id}`` and
``POST /v1/refunds``. It records every request (method, path, form-encoded params, headers),
checks the secret key (401 otherwise), and keeps Stripe's idempotency: the same
``Idempotency-Key`` gets the first answer back (``Idempotent-Replayed: true``) and creates
nothing. Test payment methods as Stripe's: ``pm_card_visa`` succeeds,
``pm_card_chargeDeclined`` is a 402 ``card_error``, ``pm_card_authenticationRequired`` is left
``requires_action``; anything else is a 400 about ``payment_method``. ``outage`` set to a status
makes every answer that status (an ``api_error``).

The bank's part, later: ``complete(intent_id)`` makes a ``requires_action`` intent succeed (as
3-D Secure passed would), ``decline(intent_id)`` makes it fail. ``event(kind, intent_id)`` is
the JSON body of the event Stripe would send about the intent as it is now
(``payment_intent.succeeded``, ``payment_intent.payment_failed``, or ``charge.refunded``
about its charge), for a test to sign and post. ``forget_idempotency_keys()`` is Stripe
pruning keys older than 24 hours.
"""

import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

TEST_METHODS = ("pm_card_visa", "pm_card_chargeDeclined", "pm_card_authenticationRequired")
DECLINE = {
    "type": "card_error",
    "code": "card_declined",
    "decline_code": "generic_decline",
    "message": "Your card was declined.",
    "param": "",
}


@dataclass
class Recorded:
    method: str
    path: str
    params: dict
    headers: dict  # lower-cased names


class FakeStripe:
    def __init__(self, api_key):
        self.api_key = api_key
        self.requests: list[Recorded] = []
        self.intents: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.replies: dict[str, tuple[int, dict]] = {}  # Idempotency-Key -> first answer
        self.outage = None
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.answer(*fake.handle(self, "GET"))

            def do_POST(self):
                self.answer(*fake.handle(self, "POST"))

            def answer(self, status, body, headers):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_{next(fake.ids)}")
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler

    def handle(self, request, method):
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length).decode() if length else ""
        url = urlsplit(request.path)
        params = dict(parse_qsl(body or url.query, keep_blank_values=True))
        headers = {name.lower(): value for name, value in request.headers.items()}
        with self.lock:
            self.requests.append(Recorded(method, url.path, params, headers))
            return self.route(method, url.path, params, headers)

    def route(self, method, path, params, headers):
        if self.outage:
            return self.outage, error("api_error", "Something went wrong on Stripe's end."), {}
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, error("invalid_request_error", "Invalid API Key provided."), {}
        key = headers.get("idempotency-key")
        if method == "POST" and key in self.replies:
            return *self.replies[key], {"Idempotent-Replayed": "true"}
        status, body = self.dispatch(method, path, params)
        if method == "POST" and key:
            self.replies[key] = (status, body)
        return status, body, {}

    def dispatch(self, method, path, params):
        if (method, path) == ("POST", "/v1/payment_intents"):
            return self.create_intent(params)
        if method == "GET" and path.startswith("/v1/payment_intents/"):
            intent = self.intents.get(path.rsplit("/", 1)[1])
            if intent is None:
                return missing("intent")
            expand = [value for name, value in params.items() if name.startswith("expand")]
            if "latest_charge" in expand:  # the charge object in place of its id, as Stripe does
                intent = {**intent, "latest_charge": self.charge_of(intent)}
            return 200, intent
        if (method, path) == ("POST", "/v1/refunds"):
            return self.create_refund(params)
        return 404, error("invalid_request_error", f"Unrecognized request URL ({path}).")

    def create_intent(self, params):
        method = params.get("payment_method")
        if method not in TEST_METHODS:
            body = error("invalid_request_error", f"No such PaymentMethod: '{method}'")
            body["error"].update(code="resource_missing", param="payment_method")
            return 400, body
        intent = {
            "id": f"pi_{next(self.ids):08d}",
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "currency": params["currency"],
            "status": "succeeded",
            "payment_method": method,
            "last_payment_error": None,
            "next_action": None,
            "metadata": {
                name[len("metadata[") : -1]: value
                for name, value in params.items()
                if name.startswith("metadata[")
            },
        }
        self.intents[intent["id"]] = intent
        if method == "pm_card_authenticationRequired":
            intent.update(status="requires_action", next_action={"type": "use_stripe_sdk"})
        if method == "pm_card_chargeDeclined":
            intent.update(status="requires_payment_method", last_payment_error=DECLINE)
            return 402, {"error": {**DECLINE, "payment_intent": intent}}
        return 200, intent

    def create_refund(self, params):
        intent = self.intents.get(params.get("payment_intent"))
        if intent is None:
            return missing("payment_intent")
        if any(refund["payment_intent"] == intent["id"] for refund in self.refunds.values()):
            message = f"Charge for {intent['id']} has already been refunded."
            body = error("invalid_request_error", message)
            body["error"]["code"] = "charge_already_refunded"
            return 400, body
        refund = {
            "id": f"re_{next(self.ids):08d}",
            "object": "refund",
            "amount": intent["amount"],
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        return 200, refund

    def complete(self, intent_id):
        """The customer authenticated at the bank: the intent succeeds."""
        with self.lock:
            self.intents[intent_id].update(status="succeeded", next_action=None)

    def decline(self, intent_id, message="Your card was declined."):
        """The bank refused after all: the intent is back to ``requires_payment_method``."""
        with self.lock:
            self.intents[intent_id].update(
                status="requires_payment_method",
                next_action=None,
                last_payment_error={**DECLINE, "message": message},
            )

    def forget_idempotency_keys(self):
        """What Stripe does to a key after 24 hours: the same key then makes a new object."""
        with self.lock:
            self.replies.clear()

    def charge_of(self, intent):
        """The intent's charge as Stripe shows it: refunded once a refund names the intent."""
        refunded = any(r["payment_intent"] == intent["id"] for r in self.refunds.values())
        return {
            "id": "ch_" + intent["id"].removeprefix("pi_"),
            "object": "charge",
            "amount": intent["amount"],
            "amount_refunded": intent["amount"] if refunded else 0,
            "payment_intent": intent["id"],
            "refunded": refunded,
        }

    def event(self, kind, intent_id, event_id=None):
        """The body (bytes) of Stripe's event ``kind`` about ``intent_id`` as it stands."""
        with self.lock:
            intent = dict(self.intents.get(intent_id) or {"id": intent_id, "amount": 0})
        thing = intent
        if kind.startswith("charge."):
            thing = self.charge_of(intent)
        event = {
            "id": event_id or f"evt_{next(self.ids):08d}",
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "livemode": False,
            "type": kind,
            "data": {"object": thing},
        }
        return json.dumps(event).encode()

    def created_intents(self):
        """The POSTs that created an intent (not replays of an Idempotency-Key)."""
        return list(self.intents.values())

    def posted(self, path):
        return [sent for sent in self.requests if (sent.method, sent.path) == ("POST", path)]


def error(kind, message):
    return {"error": {"type": kind, "message": message}}


def missing(param):
    body = error("invalid_request_error", f"No such {param}")
    body["error"].update(code="resource_missing", param=param)
    return 404, body
