"""The live server tests/test_api_schema.py runs against, and how its cases reach real objects.

Real data makes the cases reach past the 404s: a creator uploads three small
real MP4s over HTTP (``main`` is only read, so it stays public for every read;
``edits`` takes the PATCHes, ``victim`` the deletes and restores) and a viewer
gets a playback token for ``main``. ``before_generate_case`` sometimes swaps the
generated ``video_id`` / ``user_id`` path parameters for real ids, the ``token``
query parameter for a real playback token, and bodies for real credentials,
refresh tokens and video bytes, so every operation succeeds at least once.

Auth: every case carries a real access token (``BearerToken``). Operations only
creators or admins may call get that role's token or the viewer's (both sides of
the role check); ``POST /auth/logout``, ``PUT /me/password``, ``DELETE
/me/sessions/{session_id}`` and ``DELETE /me`` get a fresh account and session per case,
since they end sessions, change the password or delete the account; the third one's real id
is that very session. ``DELETE /admin/users/{user_id}`` deletes a fresh account per case.
The money routes (courses, purchases, subscriptions, ...): tests/support/schema_money.py;
reactions, progress, analytics and the audit log: tests/support/schema_engagement.py;
resumable uploads: tests/support/schema_uploads.py.
"""

import uuid
from contextlib import contextmanager, suppress
from datetime import timedelta

import jwt
from bson import ObjectId
from hypothesis import strategies as st
from pymongo import MongoClient

from app import create_app
from demo import synthetic_media
from models import email_tokens
from services.email_tokens import issue as issue_token
from tests.support import hls_ladders, schema_engagement, schema_money, schema_uploads
from tests.support.apps import test_config
from tests.support.live_server import HttpClient, LiveServer
from tests.support.schema_cases import positive

VICTIM_PASSWORD = "correct horse battery"
REAL = {}  # filled by ``live_world``: what generated cases may hit
FRESH_REFRESH_MARK = "fresh-refresh-token"
# Mailed tokens are single-use: a real one per case, stored at call time (no mail is read).
FRESH_VERIFY_MARK = "fresh-verify-token"
FRESH_RESET_MARK = "fresh-reset-token"
ROLE_MARK = "Bearer role:"
OWN_SESSION_MARK = "own-session"  # the session of the case's own token, filled at call
FRESH_SESSION = {
    "POST /auth/logout",
    "PUT /me/password",
    "DELETE /me/sessions/{session_id}",
    "DELETE /me",
}
FRESH_USER_MARK = "fresh-user"  # DELETE /admin/users/{id}: an account of its own, made at call
PRIVILEGED = {
    "POST /video/upload": "creator",
    "PATCH /video/{video_id}": "creator",
    "DELETE /video/{video_id}": "creator",
    "POST /video/{video_id}/restore": "admin",
    "POST /video/{video_id}/share-key": "creator",
    "GET /admin/users": "admin",
    "PATCH /admin/users/{user_id}/role": "admin",
    "DELETE /admin/users/{user_id}": "admin",
    **schema_money.PRIVILEGED,
    **schema_engagement.PRIVILEGED,
    **schema_uploads.PRIVILEGED,
}


class World:
    """The live server, a client for it, and an access token per role."""

    def __init__(self, server, http):
        self.server = server
        self.http = http
        self.tokens = {}

    def fresh_token(self, role):
        return self.http.signup_and_login(role)

    def mailed_token(self, kind):
        """A live token of ``kind``: verification for the victim, a reset for a new account
        (a reset ends its sessions, and the victim's login is every login case's)."""
        user_id, email = REAL["victim_user_id"], REAL["login"]["email"]
        if kind == email_tokens.PASSWORD_RESET:
            email = f"reset-{uuid.uuid4().hex[:8]}@example.com"
            body = {"name": "Reset", "email": email, "password": VICTIM_PASSWORD}
            reply = self.http.request("POST", "/auth/signup", body)
            assert reply.status == 201, reply.body[:300]
            user_id = reply.json()["user_id"]
        with self.server.app.app_context():
            return issue_token(kind, ObjectId(user_id), timedelta(hours=1), email)

    def fresh_refresh_token(self):
        reply = self.http.request("POST", "/auth/login", REAL["login"])
        assert reply.status == 200, reply.body[:300]
        return reply.json()["refresh_token"]


def served_document():
    """The document ``/openapi.json`` serves, from an app on mongomock (no server needed)."""
    app = create_app(
        test_config(MONGODB_URI=f"mongomock://localhost/schema_{uuid.uuid4().hex[:8]}")
    )
    try:
        return app.test_client().get("/openapi.json").get_json()
    finally:
        app.extensions["mongo"].client.close()


@contextmanager
def live_world(embedded_server, folder, document):
    """A live server on a database of its own, with real users, videos and a playback token."""
    name = f"schema_{uuid.uuid4().hex[:12]}"
    app = create_app(test_config(MONGODB_URI=embedded_server.uri(name), RATELIMIT_ENABLED=False))
    server = LiveServer(app).start()
    try:
        world = World(server, HttpClient(server.base_url))
        reply = world.http.request("GET", "/openapi.json")
        assert reply.json() == document, "the live server serves another document"
        _sign_in_every_role(world, app.config)
        _add_real_objects(world, folder)
        yield world
    finally:
        server.stop()
        app.extensions["mongo"].client.close()
        with MongoClient(embedded_server.uri(), serverSelectionTimeoutMS=2000) as client:
            client.drop_database(name)


def _sign_in_every_role(world, config):
    world.tokens["viewer"] = world.http.signup_and_login("viewer")
    world.tokens["creator"] = world.http.signup_and_login("creator")
    admin = {"email": config["ADMIN_EMAIL"], "password": config["ADMIN_PASSWORD"]}
    reply = world.http.request("POST", "/auth/login", admin)
    assert reply.status == 200, reply.body[:300]
    world.tokens["admin"] = reply.json()["token"]


def _add_real_objects(world, folder):
    http, creator = world.http, _bearer(world, "creator")
    source = synthetic_media.write_video(folder / "clip.mp4", seconds=1, width=160, height=120)
    REAL["upload_bytes"] = source.read_bytes()
    for key in ("video_id", "victim_id", "edited_id"):
        reply = http.upload(
            "/video/upload",
            {"title": f"Schema {key}", "visibility": "public"},
            source.name,
            REAL["upload_bytes"],
            "video/mp4",
            headers=creator,
        )
        assert reply.status == 202, reply.body[:300]
        REAL[key] = reply.json()["video"]["id"]
        http.wait_until_ready(REAL[key], world.tokens["creator"])

    # Its HLS ladder (one rung: the clip is below 240p), so the HLS routes can succeed.
    encoded = hls_ladders.encode(source, folder / "hls", segment_seconds=1)
    stored = hls_ladders.store(world.server.app, REAL["video_id"], encoded)
    REAL["rendition"] = stored.summary["renditions"][0]["name"]
    path = f"/video/{REAL['video_id']}/playback-token"
    reply = http.request("POST", path, headers=_bearer(world, "viewer"))
    assert reply.status == 200, reply.body[:300]
    REAL["playback_token"] = reply.json()["playback_token"]

    REAL["login"] = {"email": f"victim-{uuid.uuid4().hex[:8]}@example.com"}
    REAL["login"]["password"] = VICTIM_PASSWORD
    reply = http.request("POST", "/auth/signup", {"name": "Victim", **REAL["login"]})
    assert reply.status == 201, reply.body[:300]
    REAL["victim_user_id"] = reply.json()["user_id"]
    schema_money.add_real_objects(world, REAL, source.name)
    schema_engagement.add_real_objects(world, REAL)


def _bearer(world, role):
    return world.http.bearer(world.tokens[role])


def with_real_objects(case, pick):
    """The case with real ids in its path, a real playback token and real bodies."""
    path = case.operation.path
    params = case.path_parameters
    if isinstance(params, dict) and positive(case, "path"):
        if "video_id" in params:
            params["video_id"] = REAL[_video_for(case.method.upper(), path, pick)]
        if "user_id" in params:
            deletes = case.method.upper() == "DELETE" and path == "/admin/users/{user_id}"
            params["user_id"] = FRESH_USER_MARK if deletes else REAL["victim_user_id"]
        if "session_id" in params:
            params["session_id"] = OWN_SESSION_MARK
        if "rendition" in params:  # and its first segment
            params.update(rendition=REAL["rendition"], **({"n": 0} if "n" in params else {}))
        schema_money.real_path(case, params, REAL)
    schema_uploads.real_parts(case, params)
    if positive(case, "header"):
        schema_money.real_headers(case)
    plays = path.endswith(("/stream", "/media", "/thumbnail")) or "/hls/" in path
    if plays and positive(case, "query"):
        case.query = {**(case.query or {}), "token": REAL["playback_token"]}
    if isinstance(case.body, dict) and positive(case, "body"):
        with_real_body(path, case.body)
    return case


def _video_for(method, path, pick):
    if schema_engagement.real_video(path):
        return "video_id"
    if method == "DELETE":
        return "victim_id"
    if method == "PATCH":  # may make it private: never the video the reads need
        return "edited_id"
    if method == "GET" or path.endswith(("/stream", "/playback-token")):
        return "video_id"
    return pick


def with_real_body(path, body):
    """Bodies that can only succeed with real things: a video, an account, a refresh token."""
    if path == "/video/upload":
        body["file"] = REAL["upload_bytes"]  # any bytes fit the schema; a video is 202
    elif path == "/auth/login":
        body.update(REAL["login"])
    elif path == "/auth/refresh":
        body["refresh_token"] = FRESH_REFRESH_MARK  # they rotate: one per case, made at call
    elif path in ("/me/password", "/me/email"):
        body["current_password"] = VICTIM_PASSWORD  # every fresh account's
    elif path == "/me" and "password" in body:  # DELETE /me: the fresh account goes
        body["password"] = VICTIM_PASSWORD
    elif path == "/auth/verify-email":
        body["token"] = FRESH_VERIFY_MARK
    elif path == "/auth/password-reset/confirm":
        body["token"] = FRESH_RESET_MARK
    else:
        schema_money.real_body(path, body, REAL)
        schema_engagement.real_body(path, body, REAL)


def before_generate_case(context, strategy):
    """Half the generated cases hit the real video, user and playback token; every one of a
    route that only ever names the main video (reactions, progress, a video's analytics).
    Those have few valid inputs (PUT /reaction: one field of two values), and at half their
    cases one CI run drew no success among them: test_enough_cases_ran failed on the draw.
    Unknown ids on those routes are ordinary tests' work (and the coverage phase's)."""
    real = st.tuples(strategy, st.sampled_from(["video_id", "victim_id"])).map(
        lambda pair: with_real_objects(*pair)
    )
    operation = context.operation
    if operation is not None and schema_engagement.real_video(operation.path):
        return real
    return st.one_of(strategy, real)


class BearerToken:
    """Auth on every case, so schemathesis treats it as explicit: its negative cases drop the
    header and ``ignored_auth`` replays without it. Coverage-phase cases are built at
    collection, before the server exists, so the header names a role and ``with_real_token``
    swaps in that role's real access token. Privileged operations alternate between their
    role and a viewer; the FRESH_SESSION operations get an account of their own per case."""

    turns = {}

    def get(self, case, context):
        label = f"{case.method.upper()} {case.operation.path}"
        if label in FRESH_SESSION or label in schema_money.FRESH_ACCOUNT:
            return "fresh-viewer"
        if label in PRIVILEGED:
            turn = self.turns[label] = self.turns.get(label, 0) + 1
            return PRIVILEGED[label] if turn % 2 else "viewer"
        return "viewer"

    def set(self, case, role, context):
        case.headers = {**(case.headers or {}), "Authorization": ROLE_MARK + role}


def with_real_token(case, world):
    """Swap the marks ``BearerToken`` and ``with_real_body`` left for real tokens, at call time;
    the extra arguments ``case.call`` needs (schema_money.at_call)."""
    if isinstance(case.body, dict) and case.body.get("refresh_token") == FRESH_REFRESH_MARK:
        case.body["refresh_token"] = world.fresh_refresh_token()
    if isinstance(case.body, dict) and case.body.get("token") == FRESH_VERIFY_MARK:
        case.body["token"] = world.mailed_token(email_tokens.VERIFY_EMAIL)
    if isinstance(case.body, dict) and case.body.get("token") == FRESH_RESET_MARK:
        case.body["token"] = world.mailed_token(email_tokens.PASSWORD_RESET)
    headers = case.headers or {}
    value = headers.get("Authorization")
    if isinstance(value, str) and value.startswith(ROLE_MARK):
        role = value[len(ROLE_MARK) :]
        token = world.fresh_token("viewer") if role == "fresh-viewer" else world.tokens[role]
        headers["Authorization"] = f"Bearer {token}"
    params = case.path_parameters
    if isinstance(params, dict) and params.get("user_id") == FRESH_USER_MARK:
        fresh = world.fresh_token("viewer")
        params["user_id"] = jwt.decode(fresh, options={"verify_signature": False})["sub"]
    if isinstance(params, dict) and params.get("session_id") == OWN_SESSION_MARK:
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        # A case without a real token keeps the mark: an id no route matches (404).
        with suppress(jwt.InvalidTokenError, KeyError):
            params["session_id"] = jwt.decode(token, options={"verify_signature": False})["sid"]
    schema_uploads.at_call(case, world)
    return schema_money.at_call(case, world, REAL)
