"""Selling: a creator's subscription plan and earnings, the platform's revenue (admins)."""

from blueprints.schemas.earnings import (
    EarningsSchema,
    PeriodArgs,
    PlanEnvelopeSchema,
    PlanRequestSchema,
    RevenueSchema,
)
from blueprints.schemas.prices import money_rules
from services import access, earnings, plans
from web.api import ApiBlueprint
from web.guards import auth_required, current_caller

blp = ApiBlueprint("earnings", __name__, description="Subscription plans, earnings and revenue")


@blp.record_once
def document_money_rules(state):
    """The plan's request schema with this app's MAX_PRICE and CURRENCY, registered before
    the routes' documentation refers to it."""
    api = state.app.extensions["flask-smorest"]["blp_name_to_api"][blp.name]
    rules = money_rules(state.app.config["MAX_PRICE"], state.app.config["CURRENCY"])
    api.spec.components.schema("PlanRequest", rules, schema=PlanRequestSchema)


CREATORS_ONLY = "Not a creator or admin (code insufficient_role)"


@blp.route("/me/subscription-plan", methods=["PUT"])
@auth_required(plans.require_seller)
@blp.arguments(PlanRequestSchema)
@blp.response(200, PlanEnvelopeSchema)
@blp.alt_response(
    400, description="Invalid price (invalid_price) or currency (unsupported_currency)"
)
@blp.alt_response(403, description=CREATORS_ONLY)
def set_plan(fields):
    """Set the caller's monthly subscription price (creates or replaces the plan)."""
    return {"plan": plans.set_plan(current_caller(), fields["price"], fields["currency"])}


@blp.route("/me/subscription-plan", methods=["GET"])
@auth_required(plans.require_seller)
@blp.response(200, PlanEnvelopeSchema)
@blp.alt_response(403, description=CREATORS_ONLY)
@blp.alt_response(404, description="No plan set yet (code no_plan)")
def get_plan():
    """The caller's subscription plan."""
    return {"plan": plans.get_plan(current_caller())}


@blp.route("/me/earnings", methods=["GET"])
@auth_required(plans.require_seller)
@blp.arguments(PeriodArgs, location="query")
@blp.response(200, EarningsSchema)
@blp.alt_response(400, description="A month not YYYY-MM, or `to` before `from`")
@blp.alt_response(403, description=CREATORS_ONLY)
def get_earnings(args):
    """The caller's ledger summed: totals, by month, by item (refunds count negative)."""
    return earnings.creator_report(current_caller(), **args)


@blp.route("/admin/revenue", methods=["GET"])
@auth_required(access.require_admin)
@blp.arguments(PeriodArgs, location="query")
@blp.response(200, RevenueSchema)
@blp.alt_response(400, description="A month not YYYY-MM, or `to` before `from`")
@blp.alt_response(403, description="Not an admin (code insufficient_role)")
def get_revenue(args):
    """The whole ledger summed: totals, by creator, by month (refunds count negative)."""
    return earnings.platform_report(**args)
