"""Security headers on every kind of response (web/security_headers.py)."""

import base64
import hashlib
import re

import pytest

EVERY_RESPONSE = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def assert_always(response):
    for name, value in EVERY_RESPONSE.items():
        assert response.headers.get(name) == value, (response.status_code, name)


def assert_api_policy(response):
    assert_always(response)
    assert response.headers["Content-Security-Policy"] == API_CSP
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"


def assert_player_policy(response):
    """Loadable by web players and <img> of other origins; no CSP to empty a media document."""
    assert_always(response)
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert "Content-Security-Policy" not in response.headers


@pytest.fixture
def playing(library, viewer, multi_chunk_mp4):
    video = library.ready_video(multi_chunk_mp4)
    token = library.playback_token(video["id"], viewer)
    return video, token


class TestApiAnswers:
    @pytest.mark.parametrize("path", ["/", "/health", "/openapi.json"])
    def test_public_json(self, client, path):
        assert_api_policy(client.get(path))

    def test_authenticated_json(self, client, viewer, accounts):
        response = client.get("/auth/me", headers=accounts.bearer(viewer))
        assert response.status_code == 200
        assert_api_policy(response)

    @pytest.mark.parametrize(
        ("method", "path", "status"),
        [("GET", "/no/such/route", 404), ("PUT", "/health", 405), ("GET", "/auth/me", 401)],
    )
    def test_errors(self, client, method, path, status):
        response = client.open(path, method=method)
        assert response.status_code == status
        assert_api_policy(response)

    def test_an_unexpected_500(self, app):
        @app.route("/boom")
        def boom():
            raise RuntimeError("internals")

        response = app.test_client().get("/boom")
        assert response.status_code == 500
        assert_api_policy(response)

    def test_a_cors_preflight(self, client):
        response = client.options(
            "/auth/me",
            headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"},
        )
        assert_always(response)


class TestPlayerBytes:
    def test_whole_file(self, client, playing):
        video, token = playing
        response = client.get(f"/video/{video['id']}/media?token={token}")
        assert response.status_code == 200
        assert_player_policy(response)

    def test_range(self, client, playing):
        video, token = playing
        response = client.get(
            f"/video/{video['id']}/media?token={token}", headers={"Range": "bytes=0-1"}
        )
        assert response.status_code == 206
        assert_player_policy(response)

    def test_not_modified(self, client, playing):
        video, token = playing
        response = client.get(
            f"/video/{video['id']}/media?token={token}",
            headers={"If-None-Match": f'"{video["sha256"]}"'},
        )
        assert response.status_code == 304
        assert_player_policy(response)

    def test_unsatisfiable_range(self, client, playing):
        video, token = playing
        response = client.get(
            f"/video/{video['id']}/media?token={token}", headers={"Range": "bytes=999999999-"}
        )
        assert response.status_code == 416
        assert_player_policy(response)

    def test_a_refused_token(self, client, playing):
        video, _ = playing
        response = client.get(f"/video/{video['id']}/media?token=forged")
        assert response.status_code == 401
        assert_player_policy(response)

    def test_thumbnail(self, client, playing):
        video, token = playing
        response = client.get(f"/video/{video['id']}/thumbnail?token={token}")
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert_player_policy(response)


class TestDocs:
    def test_the_page_allows_its_own_inline_script_and_nothing_else(self, client):
        response = client.get("/docs")
        assert response.status_code == 200
        assert_always(response)
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
        assert "'unsafe-inline'" not in _directive(policy, "script-src")
        scripts = re.findall(r"<script>(.*?)</script>", response.get_data(as_text=True), re.S)
        assert scripts, "Swagger UI starts from an inline script"
        for script in scripts:
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in _directive(policy, "script-src")

    def test_its_assets(self, client):
        response = client.get("/docs/assets/swagger-ui-bundle.js")
        assert response.status_code == 200
        assert_always(response)
        response.close()


def _directive(policy, name):
    (directive,) = [part.strip() for part in policy.split(";") if part.strip().startswith(name)]
    return directive
