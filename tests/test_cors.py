"""CORS from CORS_ORIGINS, with the headers a browser player needs (docs/operations.md#cors)."""

import pytest

WEB_APP = "https://player.example"


@pytest.fixture
def cors_app(make_app):
    return make_app(CORS_ORIGINS=[WEB_APP, "https://admin.example"])


def preflight(client, path, method="GET", headers="Range, If-Range", origin=WEB_APP):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_media_preflight_allows_range(cors_app):
    response = preflight(cors_app.test_client(), "/video/5f0000000000000000000000/media?token=t")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == WEB_APP
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "range" in allowed and "if-range" in allowed
    assert "GET" in response.headers["Access-Control-Allow-Methods"]


def test_api_preflight_allows_the_bearer_header(cors_app):
    response = preflight(cors_app.test_client(), "/auth/me", headers="Authorization, Content-Type")
    assert response.headers["Access-Control-Allow-Origin"] == WEB_APP
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()


def test_an_origin_not_listed_gets_no_cors_headers(cors_app):
    response = preflight(cors_app.test_client(), "/auth/me", origin="https://evil.example")
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_range_answer_exposes_what_a_player_reads(
    make_app, accounts, library, viewer, multi_chunk_mp4
):
    video = library.ready_video(multi_chunk_mp4)
    token = library.playback_token(video["id"], viewer)
    response = library.client.get(
        f"/video/{video['id']}/media?token={token}",
        headers={"Origin": "https://anywhere.example", "Range": "bytes=0-1"},
    )
    assert response.status_code == 206
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "https://anywhere.example")
    exposed = {
        name.strip().lower()
        for name in response.headers["Access-Control-Expose-Headers"].split(",")
    }
    assert {"content-range", "accept-ranges", "content-length", "etag"} <= exposed


def test_a_browser_tus_client_may_send_and_read_the_tus_headers(cors_app):
    """tus-js-client in a browser: its PATCH preflight, and what it reads from the answers."""
    sent = "Authorization, Tus-Resumable, Upload-Offset, Upload-Checksum, Content-Type"
    response = preflight(cors_app.test_client(), "/uploads/abc", method="PATCH", headers=sent)
    assert response.headers["Access-Control-Allow-Origin"] == WEB_APP
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    for name in ("tus-resumable", "upload-offset", "upload-checksum"):
        assert name in allowed
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    created = preflight(
        cors_app.test_client(), "/uploads/", "POST", "Upload-Length, Upload-Metadata"
    )
    assert "upload-metadata" in created.headers["Access-Control-Allow-Headers"].lower()
    answer = cors_app.test_client().options("/uploads/", headers={"Origin": WEB_APP})
    exposed = answer.headers["Access-Control-Expose-Headers"].lower()
    for name in ("location", "upload-offset", "tus-resumable", "upload-expires", "video-id"):
        assert name in exposed
