"""Earnings and revenue over the ledger: GET /me/earnings, GET /admin/revenue (docs/earnings.md).

The entries are written straight into the ledger (models.ledger.append) with the amounts
services.money gives, as the payment code records them; the reports must sum them exactly.
"""

import math
import uuid
from fractions import Fraction

import pytest
from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from app import create_app
from models import ledger
from models.common import object_id, utcnow
from models.vocabulary import COURSE_ITEM, SUBSCRIPTION_ITEM, VIDEO_ITEM
from services import money
from tests.support.accounts import Accounts
from tests.support.apps import test_config

VIDEO_1 = ObjectId("650000000000000000000a01")
VIDEO_2 = ObjectId("650000000000000000000a02")
VIDEO_3 = ObjectId("650000000000000000000b01")  # ties with SUB_1 on gross; sorts first
SUB_1 = ObjectId("650000000000000000000c01")
COURSE_1 = ObjectId("650000000000000000000d01")
COURSE_2 = ObjectId("650000000000000000000d02")


def entry(payment_id, kind, creator_id, item, month, amounts, currency="USD"):
    return {
        "_id": ledger.entry_id(payment_id, kind),
        "kind": kind,
        "payment_id": payment_id,
        "creator_id": creator_id,
        "user_id": ObjectId(),
        "item": {"type": item[0], "id": item[1]},
        "currency": currency,
        "month": month,
        **amounts,
        "created_at": utcnow(),
    }


def sell(creator_id, item, gross, month, refunded_in=None, currency="USD"):
    """A settled sale (and its refund in ``refunded_in``), as the payment code records them."""
    payment_id = uuid.uuid4().hex
    amounts = money.split(gross)
    assert ledger.append(entry(payment_id, ledger.SALE, creator_id, item, month, amounts, currency))
    if refunded_in:
        refund = money.reversed_amounts(amounts)
        assert ledger.append(
            entry(payment_id, ledger.REFUND, creator_id, item, refunded_in, refund, currency)
        )


def amounts(gross, creator_share, platform_share):
    return {"gross": gross, "creator_share": creator_share, "platform_share": platform_share}


@pytest.fixture
def world(app, accounts):
    """Two creators' sales over three months, a refund, and an entry in another currency."""
    alice, bob = accounts.user_with_token("creator"), accounts.user_with_token("creator")
    a, b = object_id(alice["user"]["id"]), object_id(bob["user"]["id"])
    with app.test_request_context():
        sell(a, (VIDEO_ITEM, VIDEO_1), 999, "2026-01")  # 799 + 200: the floor matters
        sell(a, (COURSE_ITEM, COURSE_1), 5000, "2026-01")  # 4000 + 1000
        sell(a, (VIDEO_ITEM, VIDEO_3), 998, "2026-01")  # 798 + 200
        sell(a, (SUBSCRIPTION_ITEM, SUB_1), 499, "2026-02")  # 399 + 100
        sell(a, (VIDEO_ITEM, VIDEO_1), 999, "2026-02", refunded_in="2026-03")
        sell(a, (SUBSCRIPTION_ITEM, SUB_1), 499, "2026-03")  # the renewal
        sell(b, (VIDEO_ITEM, VIDEO_2), 1, "2026-02")  # 0 + 1
        sell(b, (COURSE_ITEM, COURSE_2), 100000, "2026-03")  # 80000 + 20000
        sell(a, (VIDEO_ITEM, VIDEO_1), 700, "2026-01", currency="EUR")  # not counted
    return {"alice": alice, "bob": bob}


def get(client, path, bundle):
    return client.get(path, headers=Accounts.bearer(bundle))


ALICE_BY_MONTH = [
    {"month": "2026-01", **amounts(6997, 5597, 1400)},
    {"month": "2026-02", **amounts(1498, 1198, 300)},
    {"month": "2026-03", **amounts(-500, -400, -100)},  # a renewal and a refund
]


def test_a_creator_sees_exact_totals_by_month_and_by_item(client, world):
    response = get(client, "/me/earnings", world["alice"])
    assert response.status_code == 200, response.json
    assert response.json == {
        "currency": "USD",
        "totals": amounts(7995, 6395, 1600),
        "by_month": ALICE_BY_MONTH,
        "by_item": [
            {"type": "course", "id": str(COURSE_1), **amounts(5000, 4000, 1000)},
            {"type": "video", "id": str(VIDEO_1), **amounts(999, 799, 200)},  # 2 sold, 1 back
            {"type": "video", "id": str(VIDEO_3), **amounts(998, 798, 200)},
            {"type": "subscription", "id": str(SUB_1), **amounts(998, 798, 200)},
        ],
    }


def test_a_creator_sees_only_their_own_entries(client, world):
    response = get(client, "/me/earnings", world["bob"])
    assert response.json == {
        "currency": "USD",
        "totals": amounts(100001, 80000, 20001),
        "by_month": [
            {"month": "2026-02", **amounts(1, 0, 1)},
            {"month": "2026-03", **amounts(100000, 80000, 20000)},
        ],
        "by_item": [
            {"type": "course", "id": str(COURSE_2), **amounts(100000, 80000, 20000)},
            {"type": "video", "id": str(VIDEO_2), **amounts(1, 0, 1)},
        ],
    }


def test_a_creator_without_sales_has_zeros(client, accounts, world):
    for bundle in (accounts.user_with_token("creator"), accounts.user_with_token("admin")):
        assert get(client, "/me/earnings", bundle).json == {
            "currency": "USD",
            "totals": amounts(0, 0, 0),
            "by_month": [],
            "by_item": [],
        }


def test_the_admin_sees_the_platforms_revenue(client, accounts, world):
    alice, bob = world["alice"]["user"]["id"], world["bob"]["user"]["id"]
    response = get(client, "/admin/revenue", accounts.user_with_token("admin"))
    assert response.status_code == 200, response.json
    assert response.json == {
        "currency": "USD",
        "totals": amounts(107996, 86395, 21601),
        "by_creator": [
            {"creator_id": bob, **amounts(100001, 80000, 20001)},
            {"creator_id": alice, **amounts(7995, 6395, 1600)},
        ],
        "by_month": [
            {"month": "2026-01", **amounts(6997, 5597, 1400)},
            {"month": "2026-02", **amounts(1499, 1198, 301)},
            {"month": "2026-03", **amounts(99500, 79600, 19900)},
        ],
    }


def test_a_period_filters_by_month_both_ends_included(client, accounts, world):
    body = get(client, "/me/earnings?from=2026-02&to=2026-03", world["alice"]).json
    assert body["by_month"] == ALICE_BY_MONTH[1:]
    assert body["totals"] == amounts(998, 798, 200)
    assert body["by_item"] == [
        {"type": "subscription", "id": str(SUB_1), **amounts(998, 798, 200)},
        {"type": "video", "id": str(VIDEO_1), **amounts(0, 0, 0)},  # sold and refunded
    ]
    for query, months in (("to=2026-01", ALICE_BY_MONTH[:1]), ("from=2026-03", ALICE_BY_MONTH[2:])):
        assert get(client, f"/me/earnings?{query}", world["alice"]).json["by_month"] == months
    admin = accounts.user_with_token("admin")
    revenue = get(client, "/admin/revenue?from=2026-03&to=2026-03", admin).json
    assert revenue["totals"] == amounts(99500, 79600, 19900)
    assert [row["gross"] for row in revenue["by_creator"]] == [100000, -500]


@pytest.mark.parametrize("path", ["/me/earnings", "/admin/revenue"])
def test_a_reversed_period_is_400(client, accounts, path):
    admin = accounts.user_with_token("admin")
    response = get(client, f"{path}?from=2026-03&to=2026-01", admin)
    assert response.status_code == 400
    assert response.json["code"] == "invalid_month_range"
    assert list(response.json["details"]) == ["to"]


@pytest.mark.parametrize(
    "query", ["from=2026-13", "from=2026-1", "to=26-01", "to=2026-00", "from=x", "month=2026-01"]
)
def test_a_malformed_period_is_400_naming_the_field(client, accounts, query):
    response = get(client, f"/me/earnings?{query}", accounts.user_with_token("creator"))
    assert response.status_code == 400
    assert list(response.json["details"]) == [query.partition("=")[0]]


def test_a_viewer_may_see_neither_report(client, viewer):
    for path in ("/me/earnings", "/admin/revenue"):
        response = get(client, path, viewer)
        assert response.status_code == 403
        assert response.json["code"] == "insufficient_role"


def test_a_creator_may_not_see_the_platforms_revenue(client, world):
    response = get(client, "/admin/revenue", world["alice"])
    assert response.status_code == 403
    assert response.json["code"] == "insufficient_role"


def test_no_token_is_401(client):
    assert client.get("/me/earnings").status_code == 401
    assert client.get("/admin/revenue").status_code == 401


def test_the_sums_are_python_ints(app, world):
    creator_id = object_id(world["alice"]["user"]["id"])
    match = ledger.entries_filter("USD", creator_id)
    with app.app_context():
        groups = [*ledger.sums_by_month(match), *ledger.sums_by_item(match)]
        groups += ledger.sums_by_creator(ledger.entries_filter("USD"))
    assert groups
    assert {type(group[name]) for group in groups for name in ledger.AMOUNTS} == {int}


def test_a_float_amount_in_the_ledger_is_an_error_not_a_sum():
    assert ledger.exact(7) == 7
    for total in (7.0, True, None):
        with pytest.raises(TypeError):
            ledger.exact(total)


def test_each_report_is_one_indexed_match_per_grouping(app, client, accounts, world, monkeypatch):
    from tests.support.query_indexes import Query, served_by

    pipelines, real = [], ledger.collection

    class Spy:
        def aggregate(self, pipeline):
            pipelines.append(pipeline)
            return real().aggregate(pipeline)

    monkeypatch.setattr(ledger, "collection", Spy)
    admin = accounts.user_with_token("admin")
    for path in ("/me/earnings", "/me/earnings?from=2026-01&to=2026-02", "/admin/revenue"):
        assert get(client, path, world["alice"] if "/me" in path else admin).status_code == 200
    assert len(pipelines) == 6  # (month, item) twice, then (month, creator)
    with app.app_context():
        indexes = [list(spec["key"]) for spec in real().index_information().values()]
    for pipeline in pipelines:
        query = Query("ledger", pipeline[0]["$match"], {})
        assert any(served_by(keys, query) for keys in indexes), query


# The rule itself, for any amounts: hypothesis searches what the examples above fix.
GROSS = st.integers(min_value=1, max_value=100_000)


@given(st.lists(GROSS, max_size=50))
def test_the_split_adds_up_floors_the_creator_and_a_refund_cancels(grosses):
    for gross in grosses:
        sale = money.split(gross)
        assert sale["creator_share"] + sale["platform_share"] == gross
        assert sale["creator_share"] == math.floor(Fraction(gross * 80, 100))
        assert 0 <= sale["creator_share"] <= gross
        refund = money.reversed_amounts(sale)
        assert {name: sale[name] + refund[name] for name in sale} == amounts(0, 0, 0)


@pytest.fixture(scope="module")
def ledger_app():
    app = create_app(test_config(MONGODB_URI=f"mongomock://localhost/test_{uuid.uuid4().hex}"))
    yield app
    app.extensions["mongo"].client.close()


MONTHS = st.sampled_from(["2025-12", "2026-01", "2026-02"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(GROSS, MONTHS, st.booleans()), max_size=20))
def test_the_report_is_the_exact_sum_of_the_sales_kept(ledger_app, sales):
    from services import earnings
    from services.access import Caller

    creator = {"_id": ObjectId(), "role": "creator"}
    kept = [gross for gross, _, refunded in sales if not refunded]
    with ledger_app.test_request_context():
        for gross, month, refunded in sales:
            sell(creator["_id"], (VIDEO_ITEM, VIDEO_1), gross, month, month if refunded else None)
        report = earnings.creator_report(Caller(creator, "session"))
    creator_share = sum(math.floor(Fraction(gross * 80, 100)) for gross in kept)
    assert report["totals"] == amounts(sum(kept), creator_share, sum(kept) - creator_share)
    assert sum(row["gross"] for row in report["by_month"]) == sum(kept)
    assert [row["month"] for row in report["by_month"]] == sorted({m for _, m, _ in sales})
