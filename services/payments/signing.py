"""Stripe's webhook signature scheme, which the sandbox speaks too.

The header is ``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``
(several ``v1`` may be given while a secret rotates). A body whose signature does not verify,
or whose ``t`` is more than the tolerance away from now, is refused: an attacker can neither
forge an event nor replay a captured one later.
"""

import hashlib
import hmac
import time

from services.payments.provider import InvalidSignature

HEADER = "Stripe-Signature"


def signature(secret, timestamp, payload):
    message = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header(secret, payload, timestamp=None):
    """The ``Stripe-Signature`` value for ``payload`` (bytes), signed now unless told."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={timestamp},v1={signature(secret, timestamp, payload)}"


def verify(secret, payload, signature_header, tolerance, now=None):
    """Raise InvalidSignature unless ``signature_header`` signs ``payload`` recently."""
    timestamp, candidates = _parse(signature_header)
    expected = signature(secret, timestamp, payload)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise InvalidSignature("The signature does not match the payload.")
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise InvalidSignature("The signature's timestamp is outside the tolerance.")


def _parse(signature_header):
    if not signature_header or not isinstance(signature_header, str):
        raise InvalidSignature("No signature header.")
    timestamp, candidates = None, []
    for part in signature_header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        raise InvalidSignature("The signature header is malformed.")
    return timestamp, candidates
