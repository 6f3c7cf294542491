"""Money: integer minor units in the platform's one currency, and the 80/20 split.

Never floats: a price is an int of cents (or the currency's minor unit), checked against
``MAX_PRICE``; the creator's share is floored and the platform takes the rest, so the two
always add up to the gross, and sums over the ledger are exact.
"""

from flask import current_app

from services.errors import InvalidInput

CREATOR_PERCENT = 80


def currency():
    return current_app.config["CURRENCY"]


def split(gross):
    """{gross, creator_share, platform_share} of a (possibly negative) gross amount.

    A refund is split as the negation of the sale it reverses (``reversed_amounts``),
    never by flooring a negative number, so sale + refund is exactly zero.
    """
    creator_share = gross * CREATOR_PERCENT // 100
    return {"gross": gross, "creator_share": creator_share, "platform_share": gross - creator_share}


def reversed_amounts(amounts):
    return {name: -value for name, value in amounts.items()}


def check_price(value, field="price"):
    """``value`` if it is a whole number of minor units in (0, MAX_PRICE]; 400 otherwise.

    Booleans (an int subclass) and floats such as 9.99 or 10.0 are refused: a price is
    counted in cents, and 10.0 is a client that thinks in dollars.
    """
    limit = current_app.config["MAX_PRICE"]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= limit:
        message = (
            f"Price must be a whole number of {currency()} minor units (cents) from 1 to {limit}."
        )
        raise InvalidInput(message, code="invalid_price", details={field: [message]})
    return value


def check_currency(value, field="currency"):
    """A ``currency`` a client sent must be the platform's (400 otherwise)."""
    if value is not None and (not isinstance(value, str) or value.upper() != currency()):
        message = f"Only {currency()} is accepted."
        raise InvalidInput(message, code="unsupported_currency", details={field: [message]})
    return currency()
