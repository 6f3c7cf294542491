"""A creator's subscription plan: PUT and GET /me/subscription-plan (docs/earnings.md#plans)."""

import pytest

from models import plan as plans
from models.common import object_id
from tests.support.accounts import Accounts

PLAN = "/me/subscription-plan"


@pytest.fixture
def creator(accounts):
    return accounts.user_with_token("creator")


def put_plan(client, bundle, body):
    return client.put(PLAN, json=body, headers=Accounts.bearer(bundle))


def test_get_is_404_before_put_then_the_plan(client, creator):
    missing = client.get(PLAN, headers=Accounts.bearer(creator))
    assert missing.status_code == 404
    assert missing.json["code"] == "no_plan"

    response = put_plan(client, creator, {"price": 499})
    assert response.status_code == 200, response.json
    assert response.json == {"plan": {"price": 499, "currency": "USD"}}
    assert client.get(PLAN, headers=Accounts.bearer(creator)).json == response.json


def test_put_replaces_the_one_plan_and_notes_when(app, client, creator):
    put_plan(client, creator, {"price": 499})
    response = put_plan(client, creator, {"price": 1299, "currency": "usd"})
    assert response.json == {"plan": {"price": 1299, "currency": "USD"}}
    with app.app_context():
        creator_id = object_id(creator["user"]["id"])
        assert plans.collection().count_documents({}) == 1
        stored = plans.find(creator_id)
    assert stored["price"] == 1299 and stored["updated_at"] is not None


def test_plans_are_per_creator(client, accounts, creator):
    other = accounts.user_with_token("creator")
    put_plan(client, creator, {"price": 499})
    assert client.get(PLAN, headers=Accounts.bearer(other)).status_code == 404


def test_an_admin_may_have_a_plan(client, accounts):
    admin = accounts.user_with_token("admin")
    assert put_plan(client, admin, {"price": 100000}).status_code == 200


@pytest.mark.parametrize("method", ["get", "put"])
def test_a_viewer_is_403(client, viewer, method):
    response = getattr(client, method)(PLAN, json={"price": 499}, headers=Accounts.bearer(viewer))
    assert response.status_code == 403
    assert response.json["code"] == "insufficient_role"


def test_no_token_is_401(client):
    assert client.put(PLAN, json={"price": 499}).status_code == 401
    assert client.get(PLAN).status_code == 401


@pytest.mark.parametrize(
    "price",
    [-1, 0, 9.99, 10.0, True, False, "100", [499], {"amount": 499}, 100001],
    ids=repr,
)
def test_an_invalid_price_is_400_naming_the_field(client, creator, price):
    response = put_plan(client, creator, {"price": price})
    assert response.status_code == 400, response.json
    assert response.json["code"] == "invalid_price"
    assert list(response.json["details"]) == ["price"]
    assert response.json["error"] == response.json["details"]["price"][0]
    assert client.get(PLAN, headers=Accounts.bearer(creator)).status_code == 404


@pytest.mark.parametrize("price", [1, 100000])
def test_the_bounds_are_accepted(client, creator, price):
    assert put_plan(client, creator, {"price": price}).json["plan"]["price"] == price


def test_max_price_is_the_setting(make_app):
    app = make_app(MAX_PRICE=500)
    client = app.test_client()
    creator = Accounts(client, app).user_with_token("creator")
    assert put_plan(client, creator, {"price": 500}).status_code == 200
    assert put_plan(client, creator, {"price": 501}).json["code"] == "invalid_price"


@pytest.mark.parametrize("currency", ["EUR", "usd$", "", 840, True, ["USD"]], ids=repr)
def test_another_currency_is_400(client, creator, currency):
    response = put_plan(client, creator, {"price": 499, "currency": currency})
    assert response.status_code == 400, response.json
    assert response.json["code"] == "unsupported_currency"
    assert list(response.json["details"]) == ["currency"]


def test_a_missing_or_null_price_or_an_unknown_field_is_400(client, creator):
    for body in ({"currency": "USD"}, {"price": None}):
        response = put_plan(client, creator, body)
        assert response.status_code == 400 and list(response.json["details"]) == ["price"]
    unknown = put_plan(client, creator, {"price": 499, "interval": "year"})
    assert unknown.status_code == 400 and "interval" in unknown.json["details"]


def test_the_openapi_document_has_the_routes_and_their_errors(client):
    paths = client.get("/openapi.json").json["paths"]
    assert set(paths[PLAN]["put"]["responses"]) >= {"200", "400", "401", "403"}
    assert set(paths[PLAN]["get"]["responses"]) >= {"200", "401", "403", "404"}
