"""MongoDB going away: 503 JSON from every DB-backed route, recovery without a restart."""

import pytest

from app import create_app
from devtools.embedded_mongo import EmbeddedMongo
from tests.support.accounts import PASSWORD
from tests.support.apps import release_rate_limit_storage, test_config
from tests.support.errors import assert_error


@pytest.fixture
def own_server(tmp_path, embedded_server):
    """A server of this test's own, which it may stop and start again."""
    server = EmbeddedMongo(tmp_path / "data", log_path=tmp_path / "secantusd.log")
    server.start()
    yield server
    release_rate_limit_storage()
    server.stop()


def make(server, **overrides):
    return create_app(
        test_config(MONGODB_URI=server.uri("outage"), MONGODB_TIMEOUT_MS=500, **overrides)
    )


def test_routes_answer_503_while_down_and_recover(own_server):
    app = make(own_server)
    client = app.test_client()
    client.post("/auth/signup", json={"name": "A", "email": "a@example.com", "password": PASSWORD})
    token = client.post("/auth/login", json={"email": "a@example.com", "password": PASSWORD}).json[
        "token"
    ]
    own_server.stop()

    health = client.get("/health")
    assert_error(health, 503, "database_unavailable")
    assert health.headers["Retry-After"] == "5"
    assert_error(client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}), 503)
    down = client.post("/auth/login", json={"email": "a@example.com", "password": PASSWORD})
    assert_error(down, 503, "database_unavailable")
    assert down.headers["Retry-After"]
    assert client.get("/").status_code == 200  # not DB-backed

    own_server.start()
    assert client.get("/health").json == {"status": "ok", "database": "ok"}
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json["user"]["email"] == "a@example.com"


def test_api_started_before_its_database_sets_up_once_it_answers(own_server):
    own_server.stop()
    app = make(own_server)  # start-up work fails quietly, to be retried
    client = app.test_client()
    assert_error(
        client.post(
            "/auth/signup", json={"name": "A", "email": "a@example.com", "password": PASSWORD}
        ),
        503,
    )
    own_server.start()
    body = {"name": "A", "email": "a@example.com", "password": PASSWORD}
    assert client.post("/auth/signup", json=body).status_code == 201
    assert client.post("/auth/signup", json=body).status_code == 409  # the unique index exists
    admin = client.post(
        "/auth/login",
        json={"email": app.config["ADMIN_EMAIL"], "password": app.config["ADMIN_PASSWORD"]},
    )
    assert admin.status_code == 200 and admin.json["user"]["role"] == "admin"


def test_data_survives_a_server_restart(own_server):
    app = make(own_server)
    client = app.test_client()
    client.post("/auth/signup", json={"name": "A", "email": "a@example.com", "password": PASSWORD})
    own_server.stop()
    own_server.start()
    login = client.post("/auth/login", json={"email": "a@example.com", "password": PASSWORD})
    assert login.status_code == 200


def test_a_refused_start_up_after_an_outage_stops_the_process(own_server):
    """The database was away at start-up, so the admin bootstrap runs on first use: when it
    refuses (ADMIN_EMAIL is someone else's account), the request is a 503 and the process is
    asked to stop, as it would have at start-up."""
    first = make(own_server, ADMIN_EMAIL=None, ADMIN_PASSWORD=None)
    body = {"name": "B", "email": "boss@example.com", "password": PASSWORD}
    assert first.test_client().post("/auth/signup", json=body).status_code == 201
    own_server.stop()
    app = make(own_server, ADMIN_EMAIL="boss@example.com", ADMIN_PASSWORD="the-operators-one")
    stops = []
    app.extensions["mongo"].stop_process = lambda: stops.append("stop")
    own_server.start()
    login = app.test_client().post("/auth/login", json={"email": "a@b.co", "password": PASSWORD})
    body = assert_error(login, 503, "startup_refused")
    assert "boss@example.com" not in body["error"]  # the reason is in the log, not the answer
    assert stops == ["stop"]


def test_stopping_the_process_is_a_sigterm_to_itself(monkeypatch):
    """What gunicorn and the development server take as "stop": a gunicorn worker exits, and
    its replacement meets the refusal at start-up, which stops gunicorn."""
    import os
    import signal

    from models import db

    sent = []
    monkeypatch.setattr(os, "kill", lambda pid, number: sent.append((pid, number)))
    db.terminate_this_process()
    assert sent == [(os.getpid(), signal.SIGTERM)]
