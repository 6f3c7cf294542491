"""200 half-sent requests and 200 paused players, with no account: /health still answers.

Against the bare production command (gunicorn.conf.py, its guarded worker,
2 processes of 32 threads) and against the production stack's nginx
(deploy/nginx.conf, rendered for free ports) in front of it. Each attack is
held open while /health is asked; the server may not shed it by closing the
attackers' sockets.
"""

import http.client
import json
import shutil
import time
import uuid

import pytest

from tests.support.faults import tool_available
from tests.support.hostile_connections import (
    HEALTH_TIMEOUT,
    AppServers,
    Nginx,
    attack,
    close_all,
    connect,
    health_status,
    nginx_binary,
    paused_players,
    still_open,
)
from tests.support.tools import require_tool

pytestmark = [pytest.mark.slow, pytest.mark.embedded]
ATTACKERS = 200
JSON_HEADERS = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    require_tool(tool_available(), "secantusd-py (SecantusDB)")
    base = tmp_path_factory.mktemp("hostile")
    servers = AppServers(base)
    try:
        servers.start()
        servers.media_path = servers.seed_video()
        yield servers
    finally:
        servers.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def nginx(servers, tmp_path_factory):
    require_tool(nginx_binary(), "nginx")
    proxy = Nginx(tmp_path_factory.mktemp("nginx"), servers.gunicorn.port)
    try:
        yield proxy.start()
    finally:
        proxy.stop()


def assert_health_answers_under_attack(port, media_path):
    players, half_sent = attack(port, media_path, ATTACKERS)
    try:
        # Each within HEALTH_TIMEOUT seconds, or the client's timeout fails the test.
        statuses = [health_status(port, timeout=HEALTH_TIMEOUT) for _ in range(5)]
        assert statuses == [200] * 5
        assert still_open(players) == ATTACKERS, "the paused players were cut off"
        assert still_open(half_sent) == ATTACKERS, "the half-sent requests were cut off"
    finally:
        close_all(players + half_sent)


def test_the_bare_app_server_keeps_answering(servers):
    assert_health_answers_under_attack(servers.gunicorn.port, servers.media_path)
    assert health_status(servers.gunicorn.port) == 200


def test_the_proxy_in_front_keeps_answering(servers, nginx):
    assert_health_answers_under_attack(nginx.port, servers.media_path)
    assert health_status(nginx.port) == 200


def test_a_file_response_through_the_guarded_worker(servers):
    """/docs assets go out as a WSGI file wrapper, which the worker sends with sendfile."""
    connection = http.client.HTTPConnection("127.0.0.1", servers.gunicorn.port, timeout=10)
    try:
        connection.request("GET", "/docs/assets/swagger-ui-bundle.js")
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200
        assert len(body) == int(response.getheader("Content-Length")) > 100_000
        assert response.getheader("X-Content-Type-Options") == "nosniff"
    finally:
        connection.close()


class TestTheProxysOwnRefusals:
    """nginx's answers are JSON in the API's error shape, with its security headers."""

    def test_a_body_over_the_limit_is_a_json_413(self, nginx):
        connection = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=10)
        try:
            connection.request("POST", "/auth/login", body=b"x" * (2 << 20), headers=JSON_HEADERS)
            response = connection.getresponse()
            assert_json_refusal(response, 413, "request_entity_too_large")
        finally:
            connection.close()

    def test_a_resumable_uploads_chunk_passes_the_body_limit(self, nginx):
        """A tus PATCH of a few MB reaches the API through the proxy (the other routes' limit
        is 1 MB) and is stored."""
        bearer = {"Authorization": f"Bearer {creator_token(nginx.port)}", **TUS}
        created = proxied(nginx.port, "POST", "/uploads/", None, {**bearer, **CREATION})
        assert created.status == 201, created.data
        path = "/uploads/" + created.getheader("Location").rsplit("/", 1)[1]
        body = b"x" * (3 << 20)
        patched = proxied(nginx.port, "PATCH", path, body, {**bearer, **chunk_headers(0)})
        assert patched.status == 204, patched.data
        assert patched.getheader("Upload-Offset") == str(len(body))

    def test_too_many_requests_in_progress_from_one_address_is_a_json_429(self, servers, nginx):
        players = paused_players(nginx.port, servers.media_path, 64, source="127.0.2.1")
        try:
            time.sleep(1)
            extra = connect(nginx.port, "127.0.2.1")
            extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            response = http.client.HTTPResponse(extra)
            response.begin()
            assert_json_refusal(response, 429, "too_many_connections")
            extra.close()
            assert health_status(nginx.port) == 200  # another address is served
        finally:
            close_all(players)


def assert_json_refusal(response, status, code):
    assert response.status == status
    assert response.getheader("Content-Type") == "application/json"
    assert response.getheader("X-Content-Type-Options") == "nosniff"
    body = json.loads(response.read())
    assert body["code"] == code and body["error"] and body["details"] == {}


TUS = {"Tus-Resumable": "1.0.0"}
CREATION = {"Upload-Length": str(4 << 20), "Upload-Metadata": "title dHVz"}


def chunk_headers(offset):
    return {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"}


def proxied(port, method, path, body, headers):
    """One request through the proxy; the response, read."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    response.data = response.read()
    connection.close()
    return response


def creator_token(port):
    email = f"tus-{uuid.uuid4().hex[:8]}@example.com"
    account = {
        "name": "Tus",
        "email": email,
        "password": "correct horse battery",
        "role": "creator",
    }
    signup = proxied(port, "POST", "/auth/signup", json.dumps(account), JSON_HEADERS)
    assert signup.status == 201, signup.data
    login = {"email": email, "password": account["password"]}
    answer = proxied(port, "POST", "/auth/login", json.dumps(login), JSON_HEADERS)
    return json.loads(answer.data)["token"]
