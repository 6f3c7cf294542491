"""A first charge made in a request (a purchase, a subscription's first period), settled,
and the provider's answer said the API's way: one place for what each outcome means.

* invalid payment method: 400 ``invalid_payment_method``, and the record is discarded
  (nothing was charged: no trace of a typo);
* declined: the record fails (its item free again), 402 ``payment_failed`` with the
  provider's reason as ``error``;
* provider away: 503 ``payment_provider_unavailable``, the record kept pending for the
  reconciliation sweep or a retry with the same Idempotency-Key;
* otherwise the charge is settled (succeeded, or left pending for the bank), and one that
  failed after all is 402.
"""

from services.errors import InvalidInput, PaymentRequired, Unavailable
from services.payments import settlement
from services.payments.provider import (
    FAILED,
    InvalidPaymentMethod,
    PaymentDeclined,
    ProviderUnavailable,
)

INVALID_METHOD = "This payment method is not valid."


def provider_down(what):
    return (
        f"The payment provider cannot be reached; your {what} is kept pending and will be "
        "settled once it answers. Retry with the same Idempotency-Key."
    )


def charged(purpose_type, purpose_id, charge_now, *, discard, fail, what):
    """Run ``charge_now()`` and settle its Charge for ``purpose_type``/``purpose_id``;
    ``discard()`` and ``fail(reason)`` are what the record does on the refusals above."""
    try:
        charge = charge_now()
    except InvalidPaymentMethod as error:
        discard()
        details = {"payment_method": [str(error) or INVALID_METHOD]}
        raise InvalidInput(
            INVALID_METHOD, code="invalid_payment_method", details=details
        ) from error
    except PaymentDeclined as error:
        fail(error.reason)
        raise PaymentRequired(error.reason) from error
    except ProviderUnavailable as error:
        raise Unavailable(
            provider_down(what), code="payment_provider_unavailable", headers={"Retry-After": "5"}
        ) from error
    settlement.apply_charge(purpose_type, purpose_id, charge)
    if charge.status == FAILED:
        raise PaymentRequired(charge.failure_reason or PaymentRequired.message)
    return charge
