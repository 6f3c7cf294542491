"""``POST /payments/webhook``: a provider's signed event, applied once.

The raw body and its ``Stripe-Signature`` header go to the provider's ``parse_event``: a
body that is unsigned, forged, or signed longer ago than ``WEBHOOK_TOLERANCE_SECONDS`` is
400 ``invalid_signature`` and changes nothing. A verified event is applied
(services.payments.settlement) and its id recorded (models.webhook_event), so a second
delivery of it is acknowledged and changes nothing (the settlement steps are idempotent
too, so two deliveries at once write one result).

An event about a payment unknown here, or of a type the API ignores, is answered 200 with
``ignored``: Stripe retries every non-2xx answer for days, and retrying cannot make it
known. (A payment the API lost track of is found by the reconciliation sweep instead.)
"""

from models import webhook_event
from models.common import utcnow
from services.errors import InvalidInput, Unavailable
from services.payments import factory, settlement
from services.payments.provider import InvalidSignature, ProviderUnavailable

SIGNATURE_HEADER = "Stripe-Signature"


def receive(payload, signature_header):
    """{received: true, outcome: "processed"|"duplicate"|"ignored", event_id}."""
    provider = factory.provider()
    try:
        event = provider.parse_event(payload, signature_header)
    except InvalidSignature as error:
        message = f"The webhook signature is not valid: {error}"
        raise InvalidInput(message, code="invalid_signature") from error
    if event is None:
        return {"received": True, "outcome": "ignored", "event_id": None}
    if webhook_event.seen(event.id):
        return {"received": True, "outcome": "duplicate", "event_id": event.id}
    try:
        applied = settlement.apply_event(event)
    except ProviderUnavailable as error:  # a refund it needed: the provider sends it again
        message = "The payment provider cannot be reached; send the event again."
        raise Unavailable(message, code="payment_provider_unavailable") from error
    if not applied:
        return {"received": True, "outcome": "ignored", "event_id": event.id}
    webhook_event.record(event.id, event.type, event.payment_id, utcnow())
    return {"received": True, "outcome": "processed", "event_id": event.id}
