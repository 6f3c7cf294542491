"""What tests/test_api_schema.py found, reproduced directly against its live server (``world``).

FIXED: each finding, found and fixed, reproduced as an ordinary test that must keep passing.
KNOWN_BUGS: failures the schema test would tolerate, each only where it shows (its check, its
operation, its exact response). It is empty, and must stay so: a finding is fixed, and its
reproduction joins FIXED, rather than tolerated.
"""

import re

from tests.support import schema_engagement


def _spec_parameter(document, path, method, name):
    operation = document["paths"][path]
    for parameter in operation[method].get("parameters", []) + operation.get("parameters", []):
        if parameter["name"] == name:
            return parameter
    return None


def bug_invalid_json_details(world):
    """POST /auth/login, Content-Type: application/json, body b"\\x00" → 400 whose
    ``details`` is ``["Invalid JSON body."]``: the documented Error.details is an object."""
    reply = world.http.request(
        "POST", "/auth/login", headers={"Content-Type": "application/json"}, body=b"\x00"
    )
    assert reply.status == 400
    details = reply.json().get("details")
    assert details is None or isinstance(details, dict), reply.body


def bug_signup_password_length(world):
    """Signup refuses passwords outside 8-128 characters: the Signup schema says so."""
    password = world.http.request("GET", "/openapi.json").json()["components"]["schemas"]["Signup"][
        "properties"
    ]["password"]
    assert (password.get("minLength"), password.get("maxLength")) == (8, 128), password
    assert "characters" in password["description"]


def bug_signup_password_counts_bytes(world):
    """A schema-valid password of 40 two-byte characters (80 bytes) was refused: the rule
    counted UTF-8 bytes (bcrypt's 72), where JSON Schema counts characters."""
    body = {"name": "N", "email": "bytes@example.com", "password": "é" * 40}
    reply = world.http.request("POST", "/auth/signup", body)
    assert reply.status == 201, reply.body


def bug_signup_password_counts_bytes_short(world):
    """A password of 3 three-byte characters (9 bytes) was accepted, where the schema's
    minLength (characters) says 8. The other side of the same rule."""
    body = {"name": "N", "email": "short-bytes@example.com", "password": "日本語"}
    reply = world.http.request("POST", "/auth/signup", body)
    assert reply.status == 400, reply.body


def bug_upload_form_fields(world):
    """/video/upload documents title & co. as ``in: formData`` parameters (OpenAPI 2, invalid
    in 3.0): clients and tools never send them, and a schema-valid upload is refused (400)."""
    document = world.http.request("GET", "/openapi.json").json()
    operation = document["paths"]["/video/upload"]["post"]
    assert not [p for p in operation.get("parameters", []) if p["in"] == "formData"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert "title" in schema.get("required", []), schema


def bug_upload_allow_header(world):
    """OPTIONS /video/upload → Allow lists GET, PATCH, DELETE too (``/video/<video_id>``
    matches "upload"); only POST is documented there."""
    reply = world.http.request("OPTIONS", "/video/upload")
    allowed = {method.strip() for method in reply.headers["Allow"].split(",")}
    assert allowed <= {"POST", "OPTIONS"}, allowed


def bug_videos_creator_pattern(world):
    """GET /videos?creator=<24 characters, not hex> → 400 "Not a valid id."; the parameter is
    documented as any 24-character string."""
    reply = world.http.request(
        "GET", "/videos?creator=" + "z" * 24, headers=world.http.bearer(world.tokens["viewer"])
    )
    assert reply.status == 400, reply.body
    parameter = _spec_parameter(
        world.http.request("GET", "/openapi.json").json(), "/videos", "get", "creator"
    )
    assert "pattern" in parameter["schema"], parameter
    # The documented pattern refuses what the server refuses.
    assert re.fullmatch(parameter["schema"]["pattern"], "z" * 24) is None, parameter


def bug_playback_token_required(world):
    """/stream documents ``token`` as optional (and nullable) and /media and /thumbnail allow
    an empty one; all three answer 400 missing_token without a non-empty token."""
    document = world.http.request("GET", "/openapi.json").json()
    for path in ("/stream", "/media", "/thumbnail"):
        parameter = _spec_parameter(document, "/video/{video_id}" + path, "get", "token")
        assert parameter["required"] is True, parameter
        assert parameter["schema"].get("minLength", 0) >= 1, parameter


def _component(world, name):
    return world.http.request("GET", "/openapi.json").json()["components"]["schemas"][name]


def _documented_refusal(world, schema, method, path, body, code):
    """``body`` is answered 400 ``code``, and ``schema`` (its rules in ``allOf``) refuses it."""
    token = world.tokens["creator"]
    reply = world.http.request(method, path, body, headers=world.http.bearer(token))
    assert reply.status == 400 and reply.json()["code"] == code, reply.body
    rules = [rule["properties"] for rule in schema.get("allOf", [])]
    for name, value in body.items():
        if name == "currency":
            assert any(re.fullmatch(r["currency"]["pattern"], value) is None for r in rules)
        elif name == "price":
            assert any(value > r["price"]["maximum"] for r in rules), rules


def bug_course_currency_undocumented(world):
    """POST /courses {"title": "0", "currency": "000"} → 400 unsupported_currency; the
    documented currency was any 3 characters (only the platform's CURRENCY, in either case,
    is taken). PATCH /courses/{id} the same."""
    body = {"title": "0", "currency": "000"}
    _documented_refusal(
        world, _component(world, "CourseCreate"), "POST", "/courses", body, "unsupported_currency"
    )
    pattern = _component(world, "CourseCreate")["allOf"][0]["properties"]["currency"]["pattern"]
    assert re.fullmatch(pattern, "usd") and re.fullmatch(pattern, "USD"), pattern  # both taken
    edit = _component(world, "CourseEdit")
    assert edit.get("allOf") == _component(world, "CourseCreate")["allOf"], edit


def bug_plan_price_over_max_undocumented(world):
    """PUT /me/subscription-plan {"price": 196231} → 400 invalid_price (over MAX_PRICE); the
    documented price had no maximum. A course's price the same."""
    body = {"price": 196231}
    plan = _component(world, "PlanRequest")
    _documented_refusal(world, plan, "PUT", "/me/subscription-plan", body, "invalid_price")
    course = {"title": "0", "price": 196231}
    _documented_refusal(
        world, _component(world, "CourseCreate"), "POST", "/courses", course, "invalid_price"
    )


def bug_purchase_one_item_undocumented(world):
    """POST /purchases with both video_id and course_id (or neither) → 400; the schema said
    nothing of it (seen while fitting the schema test to the purchases, not by schemathesis:
    its 400 for an unknown payment method hides it)."""
    body = {"payment_method": "pm_card_visa"}
    headers = {**world.http.bearer(world.tokens["viewer"]), "Idempotency-Key": "one-item"}
    reply = world.http.request("POST", "/purchases", body, headers=headers)
    assert reply.status == 400, reply.body
    one_of = _component(world, "PurchaseRequest")["oneOf"]
    assert one_of == [{"required": ["video_id"]}, {"required": ["course_id"]}], one_of


# Found by this module and fixed: their reproductions must pass from now on.
FIXED = {
    "signup-password-counts-bytes": bug_signup_password_counts_bytes,
    "signup-password-counts-bytes-short": bug_signup_password_counts_bytes_short,
    "invalid-json-details-is-a-list": bug_invalid_json_details,
    "signup-password-length-undocumented": bug_signup_password_length,
    "videos-creator-pattern-undocumented": bug_videos_creator_pattern,
    "playback-token-required-undocumented": bug_playback_token_required,
    "video-upload-allow-header": bug_upload_allow_header,
    "upload-form-fields-documented-as-formData": bug_upload_form_fields,
    "course-currency-undocumented": bug_course_currency_undocumented,
    "plan-price-over-max-undocumented": bug_plan_price_over_max_undocumented,
    "purchase-one-item-undocumented": bug_purchase_one_item_undocumented,
    **schema_engagement.FIXED,
}


# name: (schemathesis check code, operation labels, does this failure match)
KNOWN_BUGS = {}
