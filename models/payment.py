"""The ``payments`` collection: which payment pays for what.

A document::

    {_id: "<provider's payment id>", provider, purpose: {type: "purchase"|"subscription", id},
     created_at}

A webhook names only the provider's payment; this says what settling it means
(services.payments.settlement dispatches on ``purpose.type``). Recording it again (a retry,
the reconciliation sweep) changes nothing: the payment id is the ``_id``.
"""

import contextlib

from pymongo.errors import DuplicateKeyError

from models.db import get_db


def collection():
    return get_db().payments


def record(payment_id, provider, purpose_type, purpose_id, now):
    document = {
        "_id": payment_id,
        "provider": provider,
        "purpose": {"type": purpose_type, "id": purpose_id},
        "created_at": now,
    }
    with contextlib.suppress(DuplicateKeyError):
        collection().insert_one(document)


def purpose_of(payment_id):
    """(type, id) of what ``payment_id`` pays for, or None for a payment unknown here."""
    found = collection().find_one({"_id": payment_id})
    return None if found is None else (found["purpose"]["type"], found["purpose"]["id"])
