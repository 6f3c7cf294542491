"""Account payloads (docs/accounts.md)."""

import re

import marshmallow as ma
from marshmallow import validate

from blueprints.schemas.common import (
    ItemList,
    ObjectIdString,
    PaginationArgs,
    PaginationSchema,
    StrictSchema,
    UtcDateTime,
)
from models.user import is_verified
from models.vocabulary import ROLES, SELF_SERVICE_ROLES, VIEWER
from services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

MAX_EMAIL_LENGTH = 254


def password_length(value):
    """Counted in characters (code points, as JSON Schema's lengths are), never in bytes:
    the pre-hash (services.passwords) lets every byte of a long password count."""
    if len(value) < MIN_PASSWORD_LENGTH:
        raise ma.ValidationError(f"Password must be at least {MIN_PASSWORD_LENGTH} characters.")
    if len(value) > MAX_PASSWORD_LENGTH:
        raise ma.ValidationError(f"Password must be at most {MAX_PASSWORD_LENGTH} characters.")


def new_password_field():
    """A password being chosen (signup, a change): the same rules wherever it is set."""
    return ma.fields.String(
        required=True,
        validate=password_length,
        metadata={
            "minLength": MIN_PASSWORD_LENGTH,
            "maxLength": MAX_PASSWORD_LENGTH,
            "description": f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters "
            "(Unicode code points), any characters; every one counts, whatever its size "
            "in bytes (never cut)",
        },
    )


class TrimmedEmail(ma.fields.Email):
    """Trimmed and lower-cased before it is checked; anything but a string is refused."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip().lower()
        return super()._deserialize(value, attr, data, **kwargs)


# ECMA-262's whitespace, written out: the documented pattern names each character, since
# engines read ``\s`` differently (Python's also has U+001C-U+001F and U+0085, but not
# U+FEFF), and the name is trimmed of exactly these. schemathesis found a name of "\x1c"
# refused while ``\S`` allowed it.
PATTERN_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
# What a name may not hold anywhere, as character-class ranges: the control characters
# (Unicode Cc: C0, DEL, C1; tabs and line breaks among them), the line and paragraph
# separators, and the format characters (Cf) that reorder how the text around them is
# displayed: bidirectional embeddings, overrides and isolates ("Trojan Source"; a name
# such as "Ada \u202egnp.exe" shows as "Ada exe.png"). The other Cf characters stay:
# zero-width (non-)joiners are part of emoji sequences and of Persian and Indic writing,
# direction marks and tag characters (flag emoji) reorder nothing around them.
NAME_FORBIDDEN = [
    ("\u0000", "\u001f"),
    ("\u007f", "\u009f"),
    ("\u2028", "\u2029"),
    ("\u202a", "\u202e"),
    ("\u2066", "\u2069"),
]


def _escaped(character):
    return f"\\u{ord(character):04x}"


FORBIDDEN_CLASS = "".join(f"{_escaped(low)}-{_escaped(high)}" for low, high in NAME_FORBIDDEN)
TRIMMED_CLASS = "".join(
    _escaped(c)
    for c in PATTERN_WHITESPACE
    if not any(low <= c <= high for low, high in NAME_FORBIDDEN)
)
# No forbidden character anywhere and at least one that is not whitespace. Both anchors:
# the value as sent is checked, before trimming (Python's ``re`` reads ``\uXXXX`` too).
NAME_PATTERN = f"^[^{FORBIDDEN_CLASS}]*[^{FORBIDDEN_CLASS}{TRIMMED_CLASS}][^{FORBIDDEN_CLASS}]*$"
NAME_DESCRIPTION = (
    "Trimmed of whitespace, and not only whitespace. No control characters anywhere in it: "
    "Unicode Cc (U+0000-U+001F, U+007F-U+009F: tabs and line breaks included), the line and "
    "paragraph separators U+2028-U+2029, and the bidirectional embeddings, overrides and "
    "isolates U+202A-U+202E and U+2066-U+2069 (they reorder how the text around them is "
    "shown). Other format characters (zero-width joiners, direction marks) are accepted: "
    "scripts and emoji need them."
)
_FORBIDDEN = re.compile(f"[{FORBIDDEN_CLASS}]")


class NameString(ma.fields.String):
    """A person's name: at most ``max_length`` characters as sent, no control characters,
    trimmed of whitespace, and not empty once trimmed.

    Every rule reads the value as sent and is stated by ``maxLength`` and ``pattern``, so
    the document says exactly what is accepted (schemathesis found a lone ``\\v`` refused
    while the schema allowed it; tests/test_documented_rules.py holds the two together).
    """

    def __init__(self, *, label, max_length, **kwargs):
        metadata = {
            "minLength": 1,
            "maxLength": max_length,
            "pattern": NAME_PATTERN,
            "description": NAME_DESCRIPTION,
        }
        super().__init__(metadata=metadata, **kwargs)
        self.label, self.max_length = label, max_length

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if len(value) > self.max_length:
            raise ma.ValidationError(f"{self.label} must be at most {self.max_length} characters.")
        if _FORBIDDEN.search(value):
            raise ma.ValidationError(
                f"{self.label} must not contain control characters "
                "(such as line breaks, tabs or text-direction overrides)."
            )
        trimmed = value.strip(PATTERN_WHITESPACE)
        if not trimmed:
            raise ma.ValidationError(f"{self.label} must not be only whitespace.")
        return trimmed


class SignupSchema(StrictSchema):
    name = NameString(required=True, label="Name", max_length=100)
    email = TrimmedEmail(required=True, validate=validate.Length(max=MAX_EMAIL_LENGTH))
    password = new_password_field()
    role = ma.fields.String(load_default=VIEWER, validate=validate.OneOf(SELF_SERVICE_ROLES))


class LoginSchema(StrictSchema):
    email = TrimmedEmail(required=True, validate=validate.Length(max=MAX_EMAIL_LENGTH))
    password = ma.fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_PASSWORD_LENGTH)
    )


class RefreshSchema(StrictSchema):
    refresh_token = ma.fields.String(required=True, validate=validate.Length(min=1, max=4096))


class UserSchema(ma.Schema):
    id = ObjectIdString(attribute="_id", required=True)
    name = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    email_verified = ma.fields.Boolean(
        required=True,
        metadata={"description": "False from signup until the mailed link is opened"},
    )
    created_at = UtcDateTime()

    @ma.pre_dump
    def _verified(self, user, **kwargs):
        return {**user, "email_verified": is_verified(user)}


class UserEnvelopeSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema, required=True)


class SignupResultSchema(ma.Schema):
    message = ma.fields.String(required=True)
    user_id = ma.fields.String(required=True)
    user = ma.fields.Nested(UserSchema, required=True)


class TokenBundleSchema(ma.Schema):
    message = ma.fields.String(required=True)
    token = ma.fields.String(required=True, metadata={"description": "Same as access_token"})
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True, metadata={"description": "Seconds"})
    user = ma.fields.Nested(UserSchema, required=True)


class UserListSchema(ma.Schema):
    users = ItemList(ma.fields.Nested(UserSchema), required=True)
    pagination = ma.fields.Nested(PaginationSchema, required=True)


class RoleSchema(StrictSchema):
    role = ma.fields.String(required=True, validate=validate.OneOf(ROLES))


class UserFilterArgs(PaginationArgs):
    role = ma.fields.String(validate=validate.OneOf(ROLES))


class EmailTokenSchema(StrictSchema):
    token = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))


class PasswordResetSchema(StrictSchema):
    email = TrimmedEmail(required=True, validate=validate.Length(max=MAX_EMAIL_LENGTH))


class PasswordResetConfirmSchema(StrictSchema):
    token = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    new_password = new_password_field()
