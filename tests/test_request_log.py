"""JSON access lines with a request id; no token or password ever reaches a log."""

import io
import json
import logging
import re

import pytest

from tests.support.accounts import PASSWORD
from web.logs import JsonFormatter, RequestIdFilter


@pytest.fixture
def log_lines():
    """Everything logged while the test runs, at DEBUG, through the app's formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(old_level)


def access_lines(lines, path):
    return [line for line in lines if line["logger"] == "access" and line["path"] == path]


class TestRequestId:
    def test_a_sane_client_id_is_kept_and_echoed(self, client, log_lines):
        response = client.get("/", headers={"X-Request-ID": "rn-app.42:abc"})
        response.close()
        assert response.headers["X-Request-ID"] == "rn-app.42:abc"
        (line,) = access_lines(log_lines(), "/")
        assert line["request_id"] == "rn-app.42:abc"

    @pytest.mark.parametrize("supplied", [None, "", "x" * 200, "<script>alert(1)</script>", "a b"])
    def test_otherwise_one_is_made(self, client, supplied):
        headers = {"X-Request-ID": supplied} if supplied is not None else {}
        response = client.get("/", headers=headers)
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])

    def test_errors_carry_it_too(self, client):
        response = client.get("/no/such/route", headers={"X-Request-ID": "trace-1"})
        assert response.status_code == 404
        assert response.headers["X-Request-ID"] == "trace-1"


def test_an_access_line_says_what_happened(client, accounts, log_lines):
    bundle = accounts.user_with_token()
    response = client.get("/auth/me?", headers=accounts.bearer(bundle))
    response.close()
    (line,) = access_lines(log_lines(), "/auth/me")
    assert line["method"] == "GET"
    assert line["status"] == 200
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")


def secrets_of(bundle, playback_token):
    found = {PASSWORD, bundle["token"], bundle["refresh_token"], playback_token}
    # The signature alone is as good as the token to a thief: look for it too.
    return found | {token.rsplit(".", 1)[1] for token in found if token.count(".") == 2}


def test_no_token_or_password_is_ever_logged(client, library, viewer, multi_chunk_mp4, log_lines):
    video = library.ready_video(multi_chunk_mp4)
    playback_token = library.playback_token(video["id"], viewer)
    secrets = secrets_of(viewer, playback_token)
    bearer = {"Authorization": f"Bearer {viewer['token']}"}

    login = {"email": viewer["user"]["email"], "password": PASSWORD}
    requests = [
        client.post("/auth/login", json=login),
        client.post("/auth/login", json={**login, "email": "nobody@example.com"}),
        client.get("/auth/me", headers=bearer),
        client.get(f"/video/{video['id']}/stream?token={playback_token}", headers=bearer),
        client.get(f"/video/{video['id']}/media?token={playback_token}"),
        client.get(f"/video/{video['id']}/media", query_string={"token": "not" + playback_token}),
        client.post("/auth/refresh", json={"refresh_token": viewer["refresh_token"]}),
    ]
    for response in requests:
        response.close()  # a server closes every response: that writes its access line
    # werkzeug's development server logs each request line, query string and all.
    logging.getLogger("werkzeug").info(
        '127.0.0.1 - - "GET /video/%s/media?token=%s HTTP/1.1" 206 -', video["id"], playback_token
    )
    # An exception whose message carries a token is logged with its traceback.
    try:
        raise RuntimeError(f"failed with Bearer {viewer['token']} and password={PASSWORD}")
    except RuntimeError:
        logging.getLogger("app").exception("unexpected")

    lines = log_lines()
    text = "\n".join(json.dumps(line) for line in lines)
    assert access_lines(lines, f"/video/{video['id']}/media"), "the media requests were logged"
    assert "[redacted]" in text
    for secret in secrets:
        assert secret not in text
