"""Rate limits hold across gunicorn workers: counted in MongoDB (docs/conventions.md#limits)."""

import http.client
import json
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from devtools.gunicorn_process import GunicornProcess

pytestmark = [pytest.mark.slow, pytest.mark.embedded]

WORKERS = 4
ATTEMPT = json.dumps({"email": "someone@example.com", "password": "not the password"})


@pytest.fixture
def four_workers(embedded_server, tmp_path):
    database = f"limits_{os.getpid()}_{id(tmp_path) % 100000}"
    env = {
        **os.environ,
        "APP_ENV": "development",
        "MONGODB_URI": embedded_server.uri(database),
        "RATELIMIT_ENABLED": "true",  # storage: the MongoDB above, the default
        "LOG_LEVEL": "INFO",
        # One thread, so one connection, per worker (gunicorn.conf.py ties
        # worker_connections to threads): while one worker checks a password,
        # the next attempt must go to another, and the test sees several answer.
        "GUNICORN_THREADS": "1",
    }
    env.pop("RATELIMIT_STORAGE_URI", None)
    with GunicornProcess(env, tmp_path / "gunicorn.log", workers=WORKERS) as server:
        yield server


def login_attempt(port):
    """One attempt on a fresh connection, so any worker may accept it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/auth/login", ATTEMPT, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.getheader("X-Request-ID"), response.read()
    finally:
        connection.close()


def workers_that_answered(server, request_ids):
    pids = set()
    for line in server.log().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == "access" and entry.get("request_id") in request_ids:
                pids.add(entry["pid"])
    return pids


def test_the_eleventh_login_in_a_minute_is_429_whichever_worker_answers(four_workers):
    port = four_workers.port
    # Ten at once, so the workers share them out, then the eleventh.
    with ThreadPoolExecutor(max_workers=10) as pool:
        first_ten = list(pool.map(lambda _: login_attempt(port), range(10)))
    assert [status for status, _, _ in first_ten] == [401] * 10
    status, _, body = login_attempt(port)
    assert status == 429, body
    assert json.loads(body)["code"] == "too_many_requests"

    answered = workers_that_answered(four_workers, {rid for _, rid, _ in first_ten})
    assert len(answered) >= 2, f"one worker took every request: {answered}"
