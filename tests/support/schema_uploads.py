"""How tests/test_api_schema.py's cases reach real resumable uploads (docs/uploads.md).

A valid case of ``/uploads/{upload_id}`` gets an upload of its own, made at call time by the
creator (HEAD, PATCH and DELETE each change or remove it): 1 MB long, so a PATCH of any
generated body at offset 0 is stored (204) without ever finishing it. Valid headers get real
values where the schema cannot give them: the creation's metadata (a title) and a PATCH's
offset (0, where a fresh upload stands).
"""

import base64

from tests.support.schema_cases import positive

FRESH_UPLOAD_MARK = "fresh-upload"
PATCH_MEDIA_TYPE = "application/offset+octet-stream"
LENGTH = 1_000_000
PRIVILEGED = {
    "POST /uploads/": "creator",
    "HEAD /uploads/{upload_id}": "creator",
    "PATCH /uploads/{upload_id}": "creator",
    "DELETE /uploads/{upload_id}": "creator",
}
TITLE = "title " + base64.b64encode(b"Schema upload").decode()
# What a valid request may still get: the form's rules on the metadata (400), an upload over
# MAX_UPLOAD_MB (413), the stored length and the body's checksum (400, 460).
VALID_BUT_REFUSED = ["400", "413", "460"]
# What an invalid one may get besides schemathesis' list: a wrong Tus-Resumable is 412, as
# tus 1.0 says, and so is a missing one (the server speaks only 1.0.0).
INVALID_REFUSED = ["412"]
MISSING_HEADER_REFUSED = ["400", "401", "403", "406", "415", "422", "412"]


def real_parts(case, params):
    """A fresh upload in the path, a title in the metadata, offset 0 in a PATCH."""
    if not case.operation.path.startswith("/uploads/"):
        return
    if isinstance(params, dict) and "upload_id" in params and positive(case, "path"):
        params["upload_id"] = FRESH_UPLOAD_MARK
    if positive(case, "header"):
        headers = case.headers or {}
        if case.method.upper() == "POST":
            headers["Upload-Metadata"] = TITLE
        if case.method.upper() == "PATCH":
            headers["Upload-Offset"] = "0"
        case.headers = headers


def at_call(case, world):
    """The fresh upload, made now by the creator."""
    params = case.path_parameters
    if not isinstance(params, dict) or params.get("upload_id") != FRESH_UPLOAD_MARK:
        return
    headers = {
        **world.http.bearer(world.tokens["creator"]),
        "Tus-Resumable": "1.0.0",
        "Upload-Length": str(LENGTH),
        "Upload-Metadata": TITLE,
    }
    reply = world.http.request("POST", "/uploads/", headers=headers)
    assert reply.status == 201, reply.body[:300]
    params["upload_id"] = reply.headers["Location"].rsplit("/", 1)[1]
