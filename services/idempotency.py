"""``Idempotency-Key``: a request retried with the same key gets the first answer, and its
work (a charge) is done once.

The record (models.idempotency) is keyed by (user, key) under a unique index: of two
requests with one key, on any workers, the insert of one wins and it runs; the other waits
for its answer (up to ``WAIT_SECONDS``, then 409 ``idempotency_in_progress``) and replays
it. The same key with another request (method, path or body) is 422
``idempotency_key_reused``. Answers kept: successes and the client's errors (4xx: a declined
card stays declined for that key). Not kept: 5xx (the provider or the database away), whose
record is dropped so that a retry runs again. A request that died mid-way holds its key
only until its lease (``LEASE``) runs out; a retry then takes it over and runs again, which
the work itself makes safe (a purchase's charge has its own idempotency key at the
provider). Records expire after ``IDEMPOTENCY_KEY_HOURS``.
"""

import contextlib
import hashlib
import json
import time
from datetime import timedelta

from flask import current_app

from models import idempotency as store
from models.common import utcnow
from services.errors import Conflict, InvalidInput, ServiceError

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Longer than the slowest provider call (Stripe: 3 attempts of a 5 s connect and a 30 s read,
# about 105 s), so a retry never takes over a request that is still charging.
LEASE = timedelta(seconds=120)
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05


class ReplayedError(ServiceError):
    """A client error answered before under this key, answered again."""

    def __init__(self, status, body):
        super().__init__(body.get("error"), code=body.get("code"), details=body.get("details"))
        self.status = status


class KeyReused(ServiceError):
    status = 422
    code = "idempotency_key_reused"


def require_key(value):
    """The header's key: 1-255 printable ASCII characters; 400 otherwise."""
    if value is None or value == "":
        message = f"This request needs an {HEADER} header (a unique string per operation)."
        raise InvalidInput(message, code="idempotency_key_required")
    if len(value) > MAX_KEY_LENGTH or not all(" " <= char <= "~" for char in value):
        message = f"The {HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters."
        raise InvalidInput(message, code="invalid_idempotency_key")
    return value


def fingerprint(method, path, body):
    """sha256 of the request: method, path, and the body (JSON canonicalised when it is)."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True).encode()
    except ValueError:
        canonical = body or b""
    return hashlib.sha256(f"{method}\n{path}\n".encode() + canonical).hexdigest()


def once(user_id, key, request_fingerprint, action):
    """(status, body) of ``action()`` run once for (user, key), or of its first run."""
    owner = store.start(user_id, key, request_fingerprint, *_times())
    if owner is None:
        replay, owner = _wait_for_first(user_id, key, request_fingerprint)
        if replay is not None:
            return replay
    return _run(user_id, key, owner, action)


def _times():
    now = utcnow()
    hours = current_app.config["IDEMPOTENCY_KEY_HOURS"]
    return now, now + LEASE, now + timedelta(hours=hours)


def _wait_for_first(user_id, key, request_fingerprint):
    """(the first answer, None) or (None, an owner token) when this request is to run."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        record = store.find(user_id, key)
        if record is None:  # the first one gave up (5xx): this one runs
            owner = store.start(user_id, key, request_fingerprint, *_times())
            if owner is not None:
                return None, owner
            continue
        if record["fingerprint"] != request_fingerprint:
            message = f"This {HEADER} was used for another request."
            raise KeyReused(message)
        if record["status"] == store.DONE:
            return _replay(record["response"]), None
        if record["lease_until"] <= utcnow():  # the first one died mid-way
            owner = store.take_over(record, utcnow() + LEASE)
            if owner is not None:
                return None, owner
        if time.monotonic() >= deadline:
            raise Conflict(
                f"A request with this {HEADER} is still in progress; retry shortly.",
                code="idempotency_in_progress",
                headers={"Retry-After": "1"},
            )
        time.sleep(POLL_SECONDS)


def _replay(response):
    if response["status"] >= 400:
        raise ReplayedError(response["status"], response["body"])
    return response["status"], response["body"]


def _run(user_id, key, owner, action):
    try:
        status, body = action()
    except ServiceError as error:
        if error.status >= 500 or isinstance(error, KeyReused):
            _release(user_id, key, owner)
        else:
            store.finish(user_id, key, owner, error.status, error.to_dict())
        raise
    except Exception:
        _release(user_id, key, owner)
        raise
    store.finish(user_id, key, owner, status, body)
    return status, body


def _release(user_id, key, owner):
    with contextlib.suppress(Exception):  # the database away: the lease lets a retry in
        store.release(user_id, key, owner)
