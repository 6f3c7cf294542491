"""Field rules that the OpenAPI document states must be the rules the API applies.

schemathesis samples these; hypothesis here searches them directly, over the characters
where regex engines and str.strip() disagree about whitespace.
"""

import re

import marshmallow as ma
from hypothesis import given, settings
from hypothesis import strategies as st

from blueprints.schemas.accounts import NOT_ONLY_WHITESPACE, PATTERN_WHITESPACE, SignupSchema

# Every character some engine or Python calls whitespace, plus a few letters.
TRICKY = sorted(
    set(PATTERN_WHITESPACE) | {chr(c) for c in range(0x1C, 0x20)} | {"\x85", "\u200b", "a", "é"}
)


def name_accepted(name):
    try:
        SignupSchema().load({"name": name, "email": "a@example.com", "password": "x" * 12})
    except ma.ValidationError as error:
        return "name" not in error.messages
    return True


def documented_valid(name):
    return 1 <= len(name) <= 100 and re.search(NOT_ONLY_WHITESPACE, name) is not None


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=st.sampled_from(TRICKY), max_size=5),
        st.text(alphabet=st.sampled_from(TRICKY), min_size=95, max_size=105),
    )
)
def test_a_name_is_accepted_exactly_when_the_document_says(name):
    assert name_accepted(name) == documented_valid(name), repr(name)


def test_the_name_is_trimmed_of_whitespace_only():
    loaded = SignupSchema().load(
        {"name": "\u3000 Ada\x1c\ufeff", "email": "a@example.com", "password": "x" * 12}
    )
    assert loaded["name"] == "Ada\x1c"
