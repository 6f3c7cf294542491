"""Every error is JSON with the contract's shape, whatever raised it."""

import pytest

from tests.test_auth_api import assert_error


def test_index_and_health(client):
    assert client.get("/").json == {
        "message": "Video App API",
        "status": "running",
        "version": client.get("/").json["version"],
    }
    assert client.get("/health").json == {"status": "ok", "database": "ok"}


def test_404_is_json(client):
    body = assert_error(client.get("/no/such/route"), 404, "not_found")
    assert "<" not in body["error"]


def test_405_is_json_and_keeps_allow(client):
    response = client.delete("/auth/login")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_413_is_json(client):
    response = client.post("/auth/signup", data="x" * (200 * 1024), content_type="application/json")
    assert_error(response, 413, "request_entity_too_large")


def test_500_is_json_without_a_trace(app):
    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    body = assert_error(response, 500, "internal_server_error")
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert set(body) == {"error", "code"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_wrong_content_type_is_400(client, content_type):
    response = client.post("/auth/login", data='{"email": "a@b.co"}', content_type=content_type)
    assert_error(response, 400)


def test_cors_exposes_range_headers(client):
    response = client.get("/", headers={"Origin": "https://app.example"})
    exposed = response.headers["Access-Control-Expose-Headers"]
    for header in ("Content-Range", "Accept-Ranges", "Content-Length", "ETag"):
        assert header in exposed


def test_openapi_document_is_served(client):
    document = client.get("/openapi.json").json
    assert document["openapi"].startswith("3.")
    assert "/auth/login" in document["paths"]
    me = document["paths"]["/auth/me"]["get"]
    assert me["security"] == [{"bearerAuth": []}]
