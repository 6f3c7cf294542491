"""Earnings and revenue: the ledger's entries summed (docs/earnings.md).

Every amount is an exact integer sum of entries in the platform's currency; refunds are
negative entries, so a refunded sale nets to zero. A creator's report reads only the
entries whose ``creator_id`` is the caller's; the platform's reads them all (admins).
"""

from models import ledger
from services import money
from services.errors import InvalidInput


def creator_report(caller, first_month=None, last_month=None):
    """{currency, totals, by_month, by_item} of the caller's own entries."""
    match = _match(first_month, last_month, creator_id=caller.user["_id"])
    by_month = _by_month(match)
    by_item = [
        {"type": group["key"].get("type"), "id": _text(group["key"].get("id")), **_amounts(group)}
        for group in ledger.sums_by_item(match)
    ]
    by_item.sort(key=lambda row: (-row["gross"], row["id"] or "", row["type"] or ""))
    return {
        "currency": money.currency(),
        "totals": _totals(by_month),
        "by_month": by_month,
        "by_item": by_item,
    }


def platform_report(first_month=None, last_month=None):
    """{currency, totals, by_creator, by_month} of every creator's entries."""
    match = _match(first_month, last_month)
    by_month = _by_month(match)
    by_creator = [
        {"creator_id": _text(group["key"]), **_amounts(group)}
        for group in ledger.sums_by_creator(match)
    ]
    by_creator.sort(key=lambda row: (-row["gross"], row["creator_id"] or ""))
    return {
        "currency": money.currency(),
        "totals": _totals(by_month),
        "by_creator": by_creator,
        "by_month": by_month,
    }


def _match(first_month, last_month, creator_id=None):
    """The ledger filter; ``from`` after ``to`` is a 400 (``YYYY-MM`` sorts as text)."""
    if first_month is not None and last_month is not None and first_month > last_month:
        message = "The 'to' month must not be before the 'from' month."
        raise InvalidInput(message, code="invalid_month_range", details={"to": [message]})
    return ledger.entries_filter(money.currency(), creator_id, first_month, last_month)


def _by_month(match):
    return [{"month": group["key"], **_amounts(group)} for group in ledger.sums_by_month(match)]


def _amounts(group):
    return {name: group[name] for name in ledger.AMOUNTS}


def _totals(groups):
    """The sums of the per-month sums: every entry is in exactly one month."""
    return {name: sum(group[name] for group in groups) for name in ledger.AMOUNTS}


def _text(value):
    return None if value is None else str(value)
