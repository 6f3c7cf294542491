"""A creator's monthly subscription plan: its price, set and read (docs/earnings.md).

The price is checked by services.money (whole minor units, 0 < price <= MAX_PRICE, in
the platform's currency); the document is models/plan.py's, one per creator.
"""

from models import plan as plans
from services import access, money
from services.errors import NotFound


def require_seller(caller):
    """Selling (a plan, the earnings report): the roles that upload, creators and admins."""
    access.require_uploader(caller)


def set_plan(caller, price, currency=None):
    """Create or replace the caller's plan; {price, currency}."""
    price = money.check_price(price)
    currency = money.check_currency(currency)
    return _view(plans.upsert(caller.user["_id"], price, currency))


def get_plan(caller):
    """The caller's plan, or 404 ``no_plan``."""
    found = plans.find(caller.user["_id"])
    if found is None:
        raise NotFound("You have no subscription plan.", code="no_plan")
    return _view(found)


def _view(document):
    return {"price": document["price"], "currency": document["currency"]}
