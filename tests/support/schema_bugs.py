"""What tests/test_api_schema.py found, reproduced directly against its live server (``world``).

FIXED: each finding, found and fixed, reproduced as an ordinary test that must keep passing.
KNOWN_BUGS: failures the schema test would tolerate, each only where it shows (its check, its
operation, its exact response). It is empty, and must stay so: a finding is fixed, and its
reproduction joins FIXED, rather than tolerated.
"""

import re


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
}


# name: (schemathesis check code, operation labels, does this failure match)
KNOWN_BUGS = {}
