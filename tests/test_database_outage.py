"""MongoDB going away: 503 JSON from every DB-backed route, recovery without a restart."""

import pytest

from app import create_app
from scripts.embedded_mongo import EmbeddedMongo
from tests.conftest import PASSWORD, release_rate_limit_storage, test_config
from tests.test_auth_api import assert_error


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
