"""Schemathesis against the live ``/openapi.json`` (SPEC.md, "Conventions" and "Operations").

The app runs on a real socket (``LiveServer``) on the embedded database, and
schemathesis generates requests for every operation the schema documents,
valid and invalid (positive and negative modes, plus its coverage phase),
and runs all of its checks on each answer: no 5xx, every status documented,
every body matching its documented schema and content type, auth enforced.

Real data makes the cases reach past the 404s: a creator uploads three small
real MP4s over HTTP (``main`` is only read, so it stays public for every read;
``edits`` takes the PATCHes, ``victim`` the deletes and restores) and a viewer
gets a playback token for ``main``. A hook sometimes swaps the generated
``video_id`` / ``user_id`` path parameters for real ids, the ``token`` query
parameter for a real playback token, and bodies for real credentials, refresh
tokens and video bytes, so every operation succeeds at least once.

Auth: every case carries a real access token. Operations only creators or
admins may call get that role's token or the viewer's (both sides of the
role check); ``POST /auth/logout`` gets a fresh session per case, since it
revokes the token it is called with.

Server bugs this found are listed in KNOWN_BUGS: a ``filter_failure`` hook drops exactly those
failures (that check, that operation, that response), and ``test_known_server_bug``
reproduces each one as a strict xfail, so a fix makes it fail until the entry is removed.
"""

import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from pymongo import MongoClient
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation

from app import create_app
from services import demo_media
from tests.conftest import test_config
from tests.players.live_server import HttpClient, LiveServer
from tests.schema_bugs import FIXED, REPRODUCTIONS

# 21 operations x EXAMPLES generated cases (plus schemathesis' explicit and coverage-phase cases).
EXAMPLES = 100
MIN_CASES = 1000

VICTIM_PASSWORD = "correct horse battery"
CASES = {"count": 0, "by_operation": {}, "statuses": {}}


class World:
    """The live server and the real objects cases may hit."""

    def __init__(self, server, http):
        self.server = server
        self.http = http
        self.tokens = {}

    def fresh_token(self, role):
        return self.http.signup_and_login(role)

    def fresh_refresh_token(self):
        reply = self.http.request("POST", "/auth/login", REAL["login"])
        assert reply.status == 200, reply.body[:300]
        return reply.json()["refresh_token"]


@pytest.fixture(scope="module")
def world(embedded_server, tmp_path_factory):
    name = f"schema_{uuid.uuid4().hex[:12]}"
    app = create_app(test_config(MONGODB_URI=embedded_server.uri(name), RATELIMIT_ENABLED=False))
    server = LiveServer(app).start()
    http = HttpClient(server.base_url)
    try:
        live = World(server, http)
        live.tokens["viewer"] = http.signup_and_login("viewer")
        live.tokens["creator"] = http.signup_and_login("creator")
        reply = http.request(
            "POST",
            "/auth/login",
            {"email": app.config["ADMIN_EMAIL"], "password": app.config["ADMIN_PASSWORD"]},
        )
        assert reply.status == 200, reply.body[:300]
        live.tokens["admin"] = reply.json()["token"]

        folder = tmp_path_factory.mktemp("schema-media")
        source = demo_media.write_video(folder / "clip.mp4", seconds=1, width=160, height=120)
        ids = []
        for title in ("Schema main", "Schema victim", "Schema edits"):
            reply = http.upload(
                "/video/upload",
                {"title": title, "visibility": "public"},
                source.name,
                source.read_bytes(),
                "video/mp4",
                headers=http.bearer(live.tokens["creator"]),
            )
            assert reply.status == 202, reply.body[:300]
            ids.append(reply.json()["video"]["id"])
        for video_id in ids:
            http.wait_until_ready(video_id, live.tokens["creator"])
        live.video_id, live.victim_id, live.edited_id = ids

        reply = http.request(
            "POST",
            f"/video/{live.video_id}/playback-token",
            headers=http.bearer(live.tokens["viewer"]),
        )
        assert reply.status == 200, reply.body[:300]
        live.playback_token = reply.json()["playback_token"]

        live.victim_email = f"victim-{uuid.uuid4().hex[:8]}@example.com"
        reply = http.request(
            "POST",
            "/auth/signup",
            {"name": "Victim", "email": live.victim_email, "password": VICTIM_PASSWORD},
        )
        assert reply.status == 201, reply.body[:300]
        live.victim_user_id = reply.json()["user_id"]

        reply = http.request("GET", "/openapi.json")
        assert reply.status == 200
        assert reply.json() == SPEC, "the live server serves another document than the one tested"
        REAL.update(
            video_id=live.video_id,
            victim_id=live.victim_id,
            edited_id=live.edited_id,
            victim_user_id=live.victim_user_id,
            playback_token=live.playback_token,
            upload_bytes=source.read_bytes(),
            login={"email": live.victim_email, "password": VICTIM_PASSWORD},
        )
        yield live
    finally:
        server.stop()
        app.extensions["mongo"].client.close()
        with MongoClient(embedded_server.uri(), serverSelectionTimeoutMS=2000) as client:
            client.drop_database(name)


def served_schema():
    """The document ``/openapi.json`` serves, built once at import (schemathesis' eager mode).

    schemathesis' lazy loader (``schemathesis.pytest.from_fixture``) fails on pytest 9 (it sets
    ``request.node._nodeid``, which pytest 9 no longer has), so the operations are collected from
    an app on mongomock; ``world`` checks that the live server serves the very same document.
    """
    app = create_app(
        test_config(MONGODB_URI=f"mongomock://localhost/schema_{uuid.uuid4().hex[:8]}")
    )
    try:
        return app.test_client().get("/openapi.json").get_json()
    finally:
        app.extensions["mongo"].client.close()


# A well-formed Range past the end of the file is 416, as documented (RFC 9110 15.5.17).
# Whether a range fits depends on the stored file, which a schema cannot say, so for the byte
# routes 416 joins schemathesis' list of answers a valid request may get (its default list,
# which has 404 and 409 for the same reason, plus 416). Likewise an upload's bytes are any
# binary to the schema, and 422 says they are not a video or audio file.
ACCEPTED_FOR_VALID_DATA = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
# schemathesis' default list for invalid (negative) cases.
REFUSALS_OF_INVALID_DATA = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428"]
REFUSALS_OF_INVALID_DATA += ["429", "5xx"]
CONFIG = SchemathesisConfig.from_dict(
    {
        # An invalid body may also be refused for its size before it is read: 413 (any route,
        # over MAX_JSON_KB) is as clean a refusal as schemathesis' own list.
        "checks": {
            "negative_data_rejection": {"expected-statuses": [*REFUSALS_OF_INVALID_DATA, "413"]}
        },
        "operations": [
            {
                "include-path-regex": "/(media|thumbnail)$",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": [*ACCEPTED_FOR_VALID_DATA, "416"]
                    }
                },
            },
            {
                "include-path-regex": "/video/upload$",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": [*ACCEPTED_FOR_VALID_DATA, "422"]
                    }
                },
            },
        ],
    }
)
SPEC = served_schema()
schema = schemathesis.openapi.from_dict(SPEC, config=CONFIG)
REAL = {}  # filled by ``world``: the ids and playback token that cases may hit
FRESH_REFRESH_MARK = "fresh-refresh-token"


def _positive(case, location):
    """Whether ``case`` left its ``location`` component valid (swapping a deliberately invalid
    value for a real one would turn a negative case into a valid one)."""
    meta = case.meta
    if meta is None:
        return True
    component = meta.components.get(ParameterLocation(location))
    return component is None or component.mode == GenerationMode.POSITIVE


def with_real_objects(case, pick):
    """The case with real ids in its path and a real playback token in its query."""
    path = case.operation.path
    method = case.method.upper()
    params = case.path_parameters
    if isinstance(params, dict) and _positive(case, "path"):
        if "video_id" in params:
            if method == "DELETE":
                params["video_id"] = REAL["victim_id"]
            elif method == "PATCH":  # may make it private: never the video the reads need
                params["video_id"] = REAL["edited_id"]
            elif method == "GET" or path.endswith(("/stream", "/playback-token")):
                params["video_id"] = REAL["video_id"]
            else:
                params["video_id"] = REAL[pick]
        if "user_id" in params:
            params["user_id"] = REAL["victim_user_id"]
    if path.endswith(("/stream", "/media", "/thumbnail")) and _positive(case, "query"):
        case.query = {**(case.query or {}), "token": REAL["playback_token"]}
    if isinstance(case.body, dict) and _positive(case, "body"):
        with_real_body(path, case.body)
    return case


def with_real_body(path, body):
    """Bodies that can only succeed with real things: a video, an account, a refresh token."""
    if path == "/video/upload":
        body["file"] = REAL["upload_bytes"]  # any bytes fit the schema; a video is 202
    elif path == "/auth/login":
        body.update(REAL["login"])
    elif path == "/auth/refresh":
        body["refresh_token"] = FRESH_REFRESH_MARK  # they rotate: one per case, made at call


@schema.hook
def before_generate_case(context, strategy):
    """Half the generated cases hit the real video, user and playback token."""
    real = st.tuples(strategy, st.sampled_from(["video_id", "victim_id"])).map(
        lambda pair: with_real_objects(*pair)
    )
    return st.one_of(strategy, real)


def _details(response):
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("details") if isinstance(body, dict) else None


def _bad_fields(response, *names):
    details = _details(response)
    return (
        response.status_code == 400
        and isinstance(details, dict)
        and bool(set(details) & set(names))
    )


# Server bugs this module found, each dropped only where it shows (its operation, its check,
# its exact response). test_known_server_bug reproduces each one directly, as a strict xfail:
# once the server is fixed it XPASSes, fails, and the entry here has to go.
KNOWN_BUGS = {
    # Not a bug: the rule counts UTF-8 bytes, and JSON Schema's maxLength counts characters,
    # so a schema-valid password of multibyte characters may still be over 72 bytes.
    "signup-password-counts-bytes": (
        "ST202",
        {"POST /auth/signup"},
        lambda case, response: (
            _bad_fields(response, "password")
            and not str((case.body or {}).get("password", "")).isascii()
        ),
    ),
    # The same rule seen from below: fewer than 8 characters can still be 8 bytes or more.
    "signup-password-counts-bytes-short": (
        "ST201",
        {"POST /auth/signup"},
        lambda case, response: (
            response.status_code == 201
            and len(password := str((case.body or {}).get("password", ""))) < 8
            and len(password.encode()) >= 8
        ),
    ),
}
SEEN_BUGS = {}


@schema.hook
def filter_failure(context, failure, case, response):
    label = case.operation.label
    for name, (code, labels, matches) in KNOWN_BUGS.items():
        if failure.code == code and (labels is None or label in labels) and matches(case, response):
            SEEN_BUGS.setdefault(name, set()).add(label)
            return False
    return True


PRIVILEGED = {
    "POST /video/upload": "creator",
    "PATCH /video/{video_id}": "creator",
    "DELETE /video/{video_id}": "creator",
    "POST /video/{video_id}/restore": "admin",
    "GET /admin/users": "admin",
    "PATCH /admin/users/{user_id}/role": "admin",
}


ROLE_MARK = "Bearer role:"


@schema.auth(refresh_interval=None)
class BearerToken:
    """Auth on every case, so schemathesis treats it as explicit: its negative cases drop the
    header and ``ignored_auth`` replays without it. Coverage-phase cases are built at
    collection, before the server exists, so the header names a role and the test swaps in
    that role's real access token. Privileged operations alternate between their role and a
    viewer; logout gets a session of its own per case (it revokes the token it is sent with)."""

    turns = {}

    def get(self, case, context):
        label = f"{case.method.upper()} {case.operation.path}"
        if label == "POST /auth/logout":
            return "fresh-viewer"
        if label in PRIVILEGED:
            turn = self.turns[label] = self.turns.get(label, 0) + 1
            return PRIVILEGED[label] if turn % 2 else "viewer"
        return "viewer"

    def set(self, case, role, context):
        case.headers = {**(case.headers or {}), "Authorization": ROLE_MARK + role}


def with_real_token(case, world):
    if isinstance(case.body, dict) and case.body.get("refresh_token") == FRESH_REFRESH_MARK:
        case.body["refresh_token"] = world.fresh_refresh_token()
    headers = case.headers or {}
    value = headers.get("Authorization")
    if isinstance(value, str) and value.startswith(ROLE_MARK):
        role = value[len(ROLE_MARK) :]
        token = world.fresh_token("viewer") if role == "fresh-viewer" else world.tokens[role]
        headers["Authorization"] = f"Bearer {token}"


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_matches_its_schema(case, world):
    label = case.operation.label
    CASES["count"] += 1
    CASES["by_operation"][label] = CASES["by_operation"].get(label, 0) + 1
    with_real_token(case, world)
    response = case.call(base_url=world.server.base_url, timeout=30)
    CASES["statuses"].setdefault(label, set()).add((response.request.method, response.status_code))
    case.validate_response(response)


def test_enough_cases_ran():
    if len(CASES["by_operation"]) < 21:
        pytest.skip("the schema test did not run")
    assert CASES["count"] >= MIN_CASES, CASES
    print(f"schemathesis: {CASES['count']} cases over {len(CASES['by_operation'])} operations")
    # Every operation was exercised for real, not only refused: each answered a success.
    never_succeeded = [
        label
        for label, answers in CASES["statuses"].items()
        if not any(method != "OPTIONS" and status < 300 for method, status in answers)
    ]
    assert not never_succeeded, {
        label: sorted(CASES["statuses"][label]) for label in never_succeeded
    }


@pytest.mark.parametrize("name", sorted(FIXED))
def test_fixed_server_bug_stays_fixed(name, world):
    FIXED[name](world)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=pytest.mark.xfail(
                strict=True, raises=AssertionError, reason=f"server bug: {name}"
            ),
        )
        for name in KNOWN_BUGS
    ],
)
def test_known_server_bug(name, world):
    """Each failure the schema test tolerates, reproduced directly. Strict xfail: when the server
    is fixed this XPASSes and fails, and the bug's KNOWN_BUGS entry must be removed."""
    REPRODUCTIONS[name](world)
