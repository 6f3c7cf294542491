"""``auth_required``: the decorator views use for the access token, and the access rule
to check before the body is read."""

from functools import wraps

from flask import g, request

from services import accounts
from services.errors import Unauthorized

BEARER_SECURITY = [{"bearerAuth": []}]


def bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "Authentication required: send 'Authorization: Bearer <token>'.", code="missing_token"
        )
    return token.strip()


def auth_required(rule=None):
    """Require a valid access token of a live session, and that ``rule`` (a services.access
    check, called with the Caller) allows the call if given.

    The rule runs before the body is parsed, so a caller it refuses never has an upload
    spooled. Sets ``g.caller``. Also marks the route in the OpenAPI document as needing the
    bearer token, with its 401 (and 403 when a rule applies).
    """

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            g.caller = accounts.authenticate(bearer_token())
            if rule is not None:
                rule(g.caller)
            return view(*args, **kwargs)

        responses = {"401": "UNAUTHORIZED"}
        if rule is not None:
            responses["403"] = "FORBIDDEN"
        apidoc = dict(getattr(wrapper, "_apidoc", {}))
        manual = dict(apidoc.get("manual_doc", {}))
        manual.update({"security": BEARER_SECURITY, "responses": responses})
        apidoc["manual_doc"] = manual
        wrapper._apidoc = apidoc
        return wrapper

    return decorator


def current_caller():
    """The Caller that ``auth_required`` authenticated."""
    return g.caller
