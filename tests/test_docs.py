"""OpenAPI at /openapi.json, Swagger UI at /docs with no internet (docs/operations.md#openapi)."""

import re


def test_docs_page_loads_only_local_assets(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "a CDN would need the internet"
    assets = re.findall(r"(?:src|href)=\"(docs/assets/[^\"]+)\"", html)
    assert len(assets) == 3
    for asset in assets:
        response = client.get("/" + asset)
        assert response.status_code == 200, asset
        assert len(response.data) > 10_000
        response.close()


def test_every_route_is_in_the_openapi_document(app, client):
    document = client.get("/openapi.json").json
    assert document["openapi"].startswith("3.")
    documented = {
        (re.sub(r"\{(\w+)\}", r"<\1>", path), method.upper())
        for path, operations in document["paths"].items()
        for method in operations
        if method != "parameters"
    }
    served = {
        (re.sub(r"<\w+:(\w+)>", r"<\1>", rule.rule), method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - automatic_methods(rule)
        if not rule.rule.startswith(("/docs", "/openapi.json"))
    }
    assert served == documented


def automatic_methods(rule):
    """What Flask adds by itself: HEAD to a GET, OPTIONS to a rule that does not route it
    (the tus routes route both: blueprints/uploads.py)."""
    automatic = {"OPTIONS"} if rule.provide_automatic_options else set()
    return automatic | ({"HEAD"} if "GET" in rule.methods else set())


def test_every_environment_variable_is_documented():
    """What config.py, gunicorn.conf.py and make run read is in README and .env.example."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    sources = ["config.py", "config_hls.py", "config_cache.py", "config_uploads.py"]
    sources.append("gunicorn.conf.py")
    sources.append("scripts/dev_server.py")
    read = set()
    for source in sources:
        text = (root / source).read_text()
        read |= set(re.findall(r"env_(?:str|int|bool|list)\(\s*\"([A-Z_]+)\"", text))
        read |= set(re.findall(r"environ(?:\.get\(|\[)\"([A-Z_]+)\"", text))
    assert {"MONGODB_URI", "PLAYBACK_SECRET_KEY", "GUNICORN_THREADS"} <= read
    readme = (root / "README.md").read_text()
    example = (root / ".env.example").read_text()
    assert [name for name in sorted(read) if f"`{name}`" not in readme] == []
    assert [name for name in sorted(read) if not re.search(rf"^#? ?{name}=", example, re.M)] == []


# Engagement and analytics (docs/engagement.md, progress.md, analytics.md, audit.md): every
# answer each route can give, errors included, is in the document with its schema.
ENGAGEMENT_ANSWERS = {
    ("put", "/video/{video_id}/reaction"): {"200", "400", "401", "403", "404", "409"},
    ("delete", "/video/{video_id}/reaction"): {"200", "400", "401", "404"},
    ("put", "/video/{video_id}/progress"): {"204", "400", "401", "403", "404", "409"},
    ("get", "/me/continue-watching"): {"200", "400", "401"},
    ("get", "/me/history"): {"200", "400", "401"},
    ("get", "/video/{video_id}/analytics"): {"200", "400", "401", "403", "404"},
    ("get", "/analytics/creator"): {"200", "400", "401", "403"},
    ("get", "/analytics/admin"): {"200", "400", "401", "403"},
    ("get", "/admin/audit"): {"200", "400", "401", "403"},
}


def test_engagement_routes_document_their_answers(client):
    document = client.get("/openapi.json").json
    shared = document["components"]["responses"]
    for (method, path), statuses in ENGAGEMENT_ANSWERS.items():
        responses = document["paths"][path][method]["responses"]
        assert statuses <= set(responses), (method, path, sorted(responses))
        for status in statuses - {"200", "204"}:
            answer = responses[status]
            if "$ref" in answer:
                answer = shared[answer["$ref"].rsplit("/", 1)[-1]]
            schema = answer["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
    assert (
        "content" not in document["paths"]["/video/{video_id}/progress"]["put"]["responses"]["204"]
    )
    for path in ("/video/{video_id}/analytics", "/analytics/creator", "/analytics/admin"):
        names = {p["name"] for p in document["paths"][path]["get"]["parameters"]}
        assert {"from", "to"} <= names, path
