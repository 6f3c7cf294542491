"""OpenAPI for the byte routes (media, thumbnail): no schema describes a Range answer."""

TOKEN_PARAMETER = {
    "in": "query",
    "name": "token",
    "required": True,
    "description": "The playback token: the only credential (players send no header)",
    "schema": {"type": "string", "minLength": 1},
}
CONDITIONAL_HEADERS = [
    {"in": "header", "name": name, "required": False, "schema": {"type": "string"}}
    for name in ("Range", "If-Range", "If-None-Match", "If-Modified-Since")
]
STRING = {"schema": {"type": "string"}}
ALWAYS = dict.fromkeys(("Accept-Ranges", "ETag", "Last-Modified", "Cache-Control"), STRING)
BINARY = {"schema": {"type": "string", "format": "binary"}}


def bytes_doc(media_type, summary):
    """OpenAPI for a byte route: what each Range case answers, and its headers."""
    return {
        "parameters": [TOKEN_PARAMETER, *CONDITIONAL_HEADERS],
        "security": [],
        "responses": {
            "200": {
                "description": f"{summary}: the whole file (no Range, a malformed one, "
                "another unit, a stale If-Range, or more than 16 parts)",
                "headers": ALWAYS,
                "content": {media_type: BINARY},
            },
            "206": {
                "description": "`bytes=a-b`, `a-` or `-n`: one range with Content-Range "
                "(an end past the file is clipped; a suffix longer than the file gives all "
                "of it); several ranges: multipart/byteranges",
                "headers": {**ALWAYS, "Content-Range": STRING},
                "content": {media_type: BINARY, "multipart/byteranges": BINARY},
            },
            "304": {"description": "If-None-Match or If-Modified-Since matched", "headers": ALWAYS},
            "416": {
                "description": "No satisfiable range (`bytes=size-`, `bytes=-0`); "
                "Content-Range: bytes */size",
                "headers": {"Content-Range": STRING},
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    }
