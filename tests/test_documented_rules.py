"""Field rules that the OpenAPI document states must be the rules the API applies.

schemathesis samples these; hypothesis here searches them directly, over the characters
where regex engines and str.strip() disagree about whitespace, and over the control and
format characters a name refuses or keeps.
"""

import re

import marshmallow as ma
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blueprints.schemas.accounts import NAME_PATTERN, PATTERN_WHITESPACE, SignupSchema

# Every character some engine or Python calls whitespace, the control characters (Cc), the
# format characters (Cf) a name refuses and some it keeps, plus a few letters.
TRICKY = sorted(
    set(PATTERN_WHITESPACE)
    | {chr(c) for c in range(0x20)}
    | {chr(c) for c in range(0x7F, 0xA0)}
    | set("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    | set("\u200b\u200c\u200d\u200e\u200f\u061c\u00ad\u2060\U000e0067")
    | {"a", "é", "😀"}
)


def name_accepted(name):
    try:
        SignupSchema().load({"name": name, "email": "a@example.com", "password": "x" * 12})
    except ma.ValidationError as error:
        return "name" not in error.messages
    return True


def matches_documented_pattern(value):
    """JSON Schema patterns are ECMA-262 regular expressions, where ``$`` is the end of the
    string; Python's ``$`` also matches before a final newline. The pattern is anchored at
    both ends, so its inside must match the whole value."""
    assert NAME_PATTERN.startswith("^") and NAME_PATTERN.endswith("$")
    return re.fullmatch(NAME_PATTERN[1:-1], value) is not None


def documented_valid(name):
    return 1 <= len(name) <= 100 and matches_documented_pattern(name)


@settings(max_examples=600, deadline=None)
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
        {"name": "\u3000 Ada\u200b\ufeff", "email": "a@example.com", "password": "x" * 12}
    )
    assert loaded["name"] == "Ada\u200b"


REFUSED_NAMES = {
    "line feed": "Ada\nLovelace",
    "trailing line feed": "Ada\n",
    "tab": "Ada\tLovelace",
    "nul": "Ada\x00",
    "escape": "\x1b[31mAda",
    "delete": "Ada\x7f",
    "next line (C1)": "\x85Ada",
    "line separator": "Ada\u2028Lovelace",
    "right-to-left override": "Ada \u202egnp.exe",
    "right-to-left isolate": "\u2067Ada\u2069",
}
KEPT_NAMES = {
    "zero-width joiner (emoji family)": "Ada 👨\u200d👩\u200d👧",
    "zero-width non-joiner (Persian)": "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
    "left-to-right mark": "Ada\u200e",
    "flag tag sequence": "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
}


@pytest.mark.parametrize("name", REFUSED_NAMES.values(), ids=REFUSED_NAMES)
def test_control_and_direction_override_characters_are_refused(name):
    with pytest.raises(ma.ValidationError) as refused:
        SignupSchema().load({"name": name, "email": "a@example.com", "password": "x" * 12})
    (message,) = refused.value.messages["name"]
    assert message.startswith("Name must not contain control characters")
    assert not matches_documented_pattern(name)


@pytest.mark.parametrize("name", KEPT_NAMES.values(), ids=KEPT_NAMES)
def test_format_characters_that_scripts_and_emoji_need_are_kept(name):
    loaded = SignupSchema().load({"name": name, "email": "a@example.com", "password": "x" * 12})
    assert loaded["name"] == name
    assert matches_documented_pattern(name)


def test_the_openapi_document_states_the_rule(client):
    name = client.get("/openapi.json").json["components"]["schemas"]["Signup"]["properties"]["name"]
    assert name["pattern"] == NAME_PATTERN
    assert (name["minLength"], name["maxLength"]) == (1, 100)
    assert "control characters" in name["description"]


def test_a_control_character_over_http_is_400_with_the_names_sentence(client):
    body = {"name": "Ada\nLovelace", "email": "a@example.com", "password": "x" * 12}
    response = client.post("/auth/signup", json=body)
    assert response.status_code == 400
    assert response.json["error"].startswith("Name must not contain control characters")
    assert list(response.json["details"]) == ["name"]
