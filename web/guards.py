"""``auth_required``: the decorator views use for the access token and roles."""

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


def auth_required(*roles):
    """Require a valid access token of a live session, and one of ``roles`` if given.

    Sets ``g.principal``. Also marks the route in the OpenAPI document as
    needing the bearer token, with its 401 (and 403 when roles apply).
    """

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            g.principal = accounts.authenticate(bearer_token())
            accounts.require_role(g.principal, roles)
            return view(*args, **kwargs)

        responses = {"401": "UNAUTHORIZED"}
        if roles:
            responses["403"] = "FORBIDDEN"
        apidoc = dict(getattr(wrapper, "_apidoc", {}))
        manual = dict(apidoc.get("manual_doc", {}))
        manual.update({"security": BEARER_SECURITY, "responses": responses})
        apidoc["manual_doc"] = manual
        wrapper._apidoc = apidoc
        return wrapper

    return decorator


def current_principal():
    return g.principal
