"""The audit hook: an entry for every mutating call, and the client's address as a keyed hash.

Recorded: every POST, PUT, PATCH and DELETE that reached a route, whatever its outcome
(2xx, 400, 401, 403, 404, 409, 5xx...), with the status. Not recorded: 429 (the rate limiter
refused it before any route ran: a flood must not become as many writes), OPTIONS, and calls to
no route at all (404/405 before routing). ``action`` is the route's endpoint name
(``video.edit``, ``auth.login``), ``target`` the route's path parameter (``video_id`` ->
``{type: "video", id}``). Never a body, a query string, a header or a token.
"""

import logging

from bson import ObjectId
from flask import current_app, g, request

from models.common import utcnow
from services import audit, ip_hash

log = logging.getLogger(__name__)

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NOT_RECORDED = frozenset({429})


def client_ip_hash():
    """The keyed hash of the client's address (after ProxyFix): what is stored in its stead."""
    return ip_hash.of(request.remote_addr)


def rate_limit_key():
    """flask-limiter's key: the address's keyed hash, so its storage never holds an address."""
    return "ip:" + (client_ip_hash() or "unknown")


def init_app(app):
    audit.register(app)
    app.after_request(record)


def record(response):
    """After every response: queue the entry of a mutating call. Never fails the request."""
    if (
        request.method in MUTATING
        and request.url_rule is not None
        and response.status_code not in NOT_RECORDED
    ):
        try:
            audit.submit(entry(response.status_code))
        except Exception:  # the response goes out whatever happened here; said loudly
            log.exception("audit entry not recorded: %s %s", request.method, request.path)
            current_app.extensions["audit_log"].dropped += 1
    return response


def entry(status):
    caller = g.get("caller")
    user = caller.user if caller is not None else audit.noted_actor()
    return {
        "_id": ObjectId(),
        "at": utcnow(),
        "actor_id": user["_id"] if user else None,
        "actor_role": user.get("role") if user else None,
        "action": request.url_rule.endpoint,
        "method": request.method,
        "target": target_of(request.view_args),
        "status": status,
        "request_id": g.get("request_id"),
        "ip_hash": client_ip_hash(),
    }


def target_of(view_args):
    """``{type, id}`` from the route's last ``<name>_id`` path parameter, or None."""
    named = [(name, value) for name, value in (view_args or {}).items() if name.endswith("_id")]
    if not named:
        return None
    name, value = named[-1]
    return {"type": name[: -len("_id")], "id": str(value)}
