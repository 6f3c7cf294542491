"""The renewal job (services/renewals.py): run directly with the clock moved on."""

from datetime import timedelta

import pytest

from models.common import as_utc, utcnow
from services.renewals import RENEWAL_NEEDS_AUTHENTICATION, Renewals
from tests.support.concurrency import all_at_once
from tests.support.payments import AUTHENTICATION, DECLINED
from tests.support.subscriptions import DAYS, Club

embedded_only = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


@pytest.fixture
def club(app, client, accounts):
    return Club(app, client, accounts)


def _end(club, subscription_id):
    return as_utc(club.subscription(subscription_id)["current_period_end"])


def test_nothing_is_renewed_before_the_period_ends(club):
    subscription = club.subscribed()
    assert club.renew(days_later=DAYS - 1) == 0
    assert len(club.charges()) == 1 and club.subscription(subscription["id"])["period"] == 0


def test_a_renewal_charges_again_and_moves_the_period_on_from_its_end(club):
    video_id = club.video()
    subscription = club.subscribed()
    first_end = _end(club, subscription["id"])

    assert club.renew(days_later=DAYS, seconds=5) == 1

    renewed = club.subscription(subscription["id"])
    assert renewed["status"] == "active" and renewed["period"] == 1
    assert as_utc(renewed["current_period_end"]) == first_end + timedelta(days=DAYS)
    assert renewed["payment_id"] != subscription["payment_id"]
    charges = sorted(club.charges(), key=lambda c: c["created_at"])
    assert [c["idempotency_key"] for c in charges] == [
        f"subscription:{subscription['id']}:period:0:charge",
        f"subscription:{subscription['id']}:period:1:charge",
    ]
    sales = club.ledger()
    assert sorted(s["payment_id"] for s in sales) == sorted(c["_id"] for c in charges)
    assert {s["gross"] for s in sales} == {700}
    assert club.may_watch_at(video_id, first_end + timedelta(days=1))
    assert club.renew(days_later=DAYS, seconds=5) == 0  # done: nothing due
    assert len(club.charges()) == 2 and len(club.ledger()) == 2


def test_the_same_renewal_run_twice_charges_once(club):
    subscription = club.subscribed()
    stale = club.subscription(subscription["id"])
    club.renew()
    from services import renewals

    with club.app.app_context():
        provider = club.app.extensions["payment_provider"]
        renewals.renew(provider, stale, utcnow() + timedelta(days=DAYS, seconds=1))
    assert len(club.charges()) == 2 and len(club.ledger()) == 2
    assert club.subscription(subscription["id"])["period"] == 1


def test_a_declined_renewal_ends_access(club):
    video_id = club.video()
    subscription = club.subscribed()
    club.set_method(subscription["id"], DECLINED)
    end = _end(club, subscription["id"])

    assert club.renew() == 1

    ended = club.subscription(subscription["id"])
    assert (ended["status"], ended["ended_reason"]) == ("ended", "renewal_failed")
    assert ended["failure_reason"] == "Your card was declined."
    assert "holding" not in ended
    assert not club.may_watch_at(video_id, end - timedelta(seconds=1))
    assert len(club.ledger()) == 1
    listed = club.client.get("/me/subscriptions", headers=club.accounts.bearer(club.buyer))
    assert listed.json["subscriptions"][0]["status"] == "ended"
    assert club.subscribe().status_code == 201


def test_a_renewal_that_needs_authentication_ends_the_subscription(club):
    subscription = club.subscribed()
    club.set_method(subscription["id"], AUTHENTICATION)
    # The job charges outside any request: the sandbox's webhooks need the public URL.
    club.app.extensions["payment_provider"].public_base_url = "http://api.test"
    assert club.renew() == 1
    ended = club.subscription(subscription["id"])
    assert (ended["status"], ended["failure_reason"]) == ("ended", RENEWAL_NEEDS_AUTHENTICATION)
    assert len(club.ledger()) == 1
    # The subscriber authenticates later anyway: that period's money goes back.
    renewal = next(c for c in club.charges() if c["status"] == "pending")
    assert club.authenticate(renewal["_id"]).status_code == 200
    club.deliver()
    statuses = {charge["_id"]: charge["status"] for charge in club.charges()}
    assert statuses[renewal["_id"]] == "refunded"
    assert len(club.ledger()) == 1 and club.subscription(subscription["id"])["status"] == "ended"


def test_a_refund_after_a_renewal_reverses_the_latest_period(club):
    video_id = club.video()
    subscription = club.subscribed()
    club.renew()
    latest = club.subscription(subscription["id"])["payment_id"]

    response = club.refund_subscription(subscription["id"])

    assert response.status_code == 200, response.json
    [refund] = [e for e in club.ledger() if e["kind"] == "refund"]
    assert refund["payment_id"] == latest and refund["gross"] == -700
    assert not club.may_watch(video_id)


def test_a_first_payment_whose_webhook_was_lost_is_settled_by_the_job(club):
    subscription = club.subscribed(AUTHENTICATION)
    club.authenticate(subscription["payment_id"])  # its webhook is never delivered
    assert club.renew(days_later=0, seconds=180) == 1
    assert club.subscription(subscription["id"])["status"] == "active"
    assert len(club.ledger()) == 1


@embedded_only
def test_two_processes_renewing_at_once_charge_once(make_app, club):
    subscription = club.subscribed()
    jobs = [Renewals(club.app), Renewals(make_app())]
    moment = utcnow() + timedelta(days=DAYS, seconds=1)
    for _ in range(3):  # three rounds of two at once
        all_at_once([lambda job=job, at=moment: job.run(at) for job in jobs])
        moment += timedelta(days=DAYS)
    renewed = club.subscription(subscription["id"])
    assert renewed["period"] == 3
    assert len(club.charges()) == 4 and len(club.ledger()) == 4
    assert len({entry["payment_id"] for entry in club.ledger()}) == 4


def test_a_first_payment_waiting_for_the_bank_is_never_charged_again_and_given_up(club):
    subscription = club.subscribed(AUTHENTICATION)
    with club.app.app_context():  # the provider forgets the key (Stripe: after 24 hours)
        from models.db import get_db

        get_db().sandbox_payments.update_many({}, {"$set": {"idempotency_key": "forgotten"}})
    assert club.renew(days_later=0, seconds=180) == 1
    assert len(club.charges()) == 1
    assert club.subscription(subscription["id"])["status"] == "pending"

    club.renew(days_later=0, seconds=2 * 3600)  # two hours: nobody authenticated

    given_up = club.subscription(subscription["id"])
    assert given_up["status"] == "failed" and "holding" not in given_up
    assert len(club.charges()) == 1 and club.ledger() == []


def test_a_renewal_overdue_past_the_providers_key_lifetime_ends_without_a_charge(club):
    """A renewal the job could not charge for a day (the provider away) is not charged
    then: the provider may have forgotten the period's key, so a charge could be a second."""
    subscription = club.subscribed()
    charges = len(club.charges())

    club.renew(days_later=DAYS + 1)

    ended = club.subscription(subscription["id"])
    assert (ended["status"], ended["ended_reason"]) == ("ended", "renewal_failed")
    assert len(club.charges()) == charges and len(club.ledger()) == 1


def test_a_renewal_is_charged_just_before_the_period_ends_and_a_cancel_waits_for_the_end(club):
    """A paying subscriber keeps access across the end (the renewal is charged a sweep or two
    ahead); a cancelled one keeps it until the end, and not after."""
    renewing = club.subscribed()
    video_id = club.video()
    end = _end(club, renewing["id"])

    club.renew(days_later=DAYS, seconds=-60)

    assert club.subscription(renewing["id"])["period"] == 1
    assert club.may_watch_at(video_id, end + timedelta(seconds=1))
    assert club.cancel(renewing["id"]).status_code == 200
    renewed_end = _end(club, renewing["id"])
    club.renew(days_later=2 * DAYS, seconds=-60)
    assert club.subscription(renewing["id"])["status"] == "active"
    assert club.may_watch_at(video_id, renewed_end - timedelta(seconds=1))
    club.renew(days_later=2 * DAYS, seconds=5)
    assert club.subscription(renewing["id"])["status"] == "ended"
    assert len(club.charges()) == 2
