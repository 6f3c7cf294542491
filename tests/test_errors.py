"""Every error is JSON with the contract's shape, whatever raised it."""

import pytest
from flask import request

from tests.support.errors import assert_error
from web.api import LONE_SURROGATE


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


class TestOneInvalidField:
    """Mobile clients show only ``error``: with one invalid field it is that field's sentence,
    and ``details`` still lists it; with several, a general sentence and all of them."""

    SIGNUP = {"name": "Ada", "email": "ada@example.com", "password": "correct horse"}

    @staticmethod
    def refused(response, field):
        body = assert_error(response, 400, "validation_error")
        assert list(body["details"]) == [field]
        assert body["error"] != "Some fields are invalid."
        return body

    def test_a_short_password_shows_the_passwords_own_sentence(self, client):
        """The issue's case: a 6-character password showed "Some fields are invalid."."""
        response = client.post("/auth/signup", json={**self.SIGNUP, "password": "abc123"})
        body = self.refused(response, "password")
        assert body["error"] == body["details"]["password"][0]
        assert body["error"].startswith("Password ")

    @pytest.mark.parametrize(
        "change, field, sentence",
        [
            ({"password": None}, "password", "Password is required."),
            ({"email": "not-an-email"}, "email", "Email is not a valid email address."),
            ({"email": {"$ne": None}}, "email", "Email is not a valid email address."),
            ({"name": 42}, "name", "Name is not a valid string."),
            ({"name": "n" * 101}, "name", "Name must be at most 100 characters."),
            ({"name": "   "}, "name", "Name must not be only whitespace."),
            ({"role": "admin"}, "role", "Role must be one of: viewer, creator."),
            ({"is_admin": True}, "is_admin", "Unknown field: is_admin."),
        ],
    )
    def test_signup_fields(self, client, change, field, sentence):
        body = {**self.SIGNUP, **change}
        body = {key: value for key, value in body.items() if value is not None}
        refused = self.refused(client.post("/auth/signup", json=body), field)
        assert refused["error"] == sentence

    def test_a_login_password_of_the_wrong_type(self, client):
        response = client.post("/auth/login", json={"email": "a@b.co", "password": {"$gt": ""}})
        assert self.refused(response, "password")["error"] == "Password is not a valid string."

    def test_an_empty_refresh_token(self, client):
        response = client.post("/auth/refresh", json={"refresh_token": ""})
        body = self.refused(response, "refresh_token")
        assert body["error"] == "Refresh token length must be between 1 and 4096."

    def test_query_parameters(self, client, accounts):
        admin = accounts.bearer(accounts.user_with_token("admin"))
        too_many = self.refused(client.get("/admin/users?per_page=0", headers=admin), "per_page")
        assert too_many["error"] == (
            "Per page must be greater than or equal to 1 and less than or equal to 100."
        )
        unknown = self.refused(client.get("/admin/users?sort=email", headers=admin), "sort")
        assert unknown["error"] == "Unknown query parameter: sort."

    def test_a_body_that_is_not_an_object(self, client):
        response = client.post("/auth/login", json=[1, 2])
        body = self.refused(response, "_schema")
        assert body["error"] == "The request body must be a JSON object."

    def test_a_body_that_is_not_json(self, client):
        response = client.post("/auth/login", data="{bad", content_type="application/json")
        body = self.refused(response, "json")
        assert body["error"] == "Invalid JSON body."

    def test_several_invalid_fields_keep_the_general_sentence(self, client):
        body = assert_error(
            client.post("/auth/signup", json={"email": "nope", "password": "x"}), 400
        )
        assert body["error"] == "Some fields are invalid."
        assert set(body["details"]) == {"name", "email", "password"}

    def test_a_service_refusing_one_field_says_which(self, app):
        from services.errors import InvalidInput

        @app.route("/one-field")
        def one_field():
            raise InvalidInput(details={"creator": ["Not a valid id."]})

        body = assert_error(app.test_client().get("/one-field"), 400, "validation_error")
        assert body == {
            "error": "Creator is not a valid id.",
            "code": "validation_error",
            "details": {"creator": ["Not a valid id."]},
        }


def input_schemas():
    """Every schema that parses a request: JSON bodies, query strings, the multipart upload."""
    import blueprints.schemas.accounts  # noqa: F401 (imported for its subclasses)
    from blueprints.schemas.common import StrictSchema
    from blueprints.schemas.videos import PlaybackTokenArgs

    found, pending = [PlaybackTokenArgs], [StrictSchema]
    while pending:
        schema = pending.pop()
        pending.extend(schema.__subclasses__())
        if schema is not StrictSchema and schema.__module__.startswith("blueprints."):
            found.append(schema)
    return sorted(found, key=lambda schema: schema.__name__)


BAD_VALUES = [None, 42, 4.5, True, "", " ", "x" * 6000, [], ["x"], {}, {"$ne": None}]


@pytest.mark.parametrize("schema", input_schemas(), ids=lambda schema: schema.__name__)
def test_every_field_of_every_schema_has_a_sentence_naming_it(schema):
    """Whatever is wrong with a single field (missing, wrong type, too long, unknown...),
    ``error`` is one readable sentence that names it."""
    import marshmallow as ma

    from web.api import GENERAL_SENTENCE, error_sentence

    location = "query" if schema.__name__.endswith("Args") else "json"
    instance = schema()
    problems = {
        name: [instance.validate({name: bad}, partial=True) for bad in BAD_VALUES]
        for name in instance.load_fields
    }
    problems["surprise_field"] = [instance.validate({"surprise_field": 1}, partial=True)]
    for name, field in instance.load_fields.items():
        if field.required:
            problems[name].append({name: instance.validate({})[name]})
    checked = 0
    for name, outcomes in problems.items():
        for errors in outcomes:
            if name not in errors:
                continue  # that value was fine
            sentence = error_sentence({location: {name: errors[name]}})
            label = name.replace("_", " ")
            assert sentence != GENERAL_SENTENCE, (name, errors)
            assert sentence[0].isupper() and sentence.endswith("."), sentence
            assert label.lower() in sentence.lower() or name in sentence, (name, sentence)
            assert "Missing data" not in sentence and "Unknown field." not in sentence, sentence
            checked += 1
    assert checked, schema
    assert isinstance(instance, ma.Schema)


@pytest.mark.parametrize(
    "raw",
    [
        '{"name": "Ada", "email": "a@example.com", "password": "pass\\ud800word"}',
        '{"name": "Ad\\udfffa", "email": "a@example.com", "password": "password"}',
        '{"name": "Ada", "email": "a@example.com", "password": "password", "\\ud800": 1}',
    ],
    ids=["password", "name", "key"],
)
def test_a_lone_surrogate_in_json_is_400_not_500(client, raw):
    """JSON can escape half a UTF-16 pair ("\\ud800"), which is no character: it cannot be
    hashed as UTF-8 nor stored in BSON, and was a 500. The body is refused as invalid."""
    response = client.post("/auth/signup", data=raw, content_type="application/json")
    body = assert_error(response, 400, "validation_error")
    assert "Invalid JSON body" in body["error"]


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/auth/login", '{"email": "a@example.com", "password": "pass\\udc00word"}'),
        ("/auth/refresh", '{"refresh_token": "\\ud800"}'),
        ("/admin/users/{admin}/role", '{"role": "\\ud800"}'),
    ],
    ids=["login", "refresh", "admin role"],
)
def test_a_lone_surrogate_is_400_on_every_json_route(client, accounts, path, raw):
    """One parser reads every JSON body, so the refusal is everywhere, not on signup only."""
    admin = accounts.user_with_token("admin")
    response = client.open(
        path.format(admin=admin["user"]["id"]),
        method="PATCH" if "role" in path else "POST",
        data=raw,
        content_type="application/json",
        headers=accounts.bearer(admin),
    )
    assert "Invalid JSON body" in assert_error(response, 400, "validation_error")["error"]


# Half a UTF-16 pair as a URL can carry it: its UTF-8-like bytes (ED A0 80), escaped or raw.
SURROGATE_BYTES = ["%ED%A0%80", "\xed\xa0\x80"]  # WSGI strings hold raw bytes as latin-1


@pytest.mark.parametrize("spelling", SURROGATE_BYTES, ids=["escaped", "raw bytes"])
@pytest.mark.parametrize(
    ("path", "query", "status"),
    [
        ("/videos", "q={s}", 200),
        ("/videos", "category={s}", 200),
        ("/videos", "cursor={s}", 400),
        ("/videos", "{s}=1", 400),
        ("/admin/users", "role={s}", 400),
        ("/video/{s}", "", 404),
        ("/video/{s}/stream", "token=x", 404),
        ("/video/000000000000000000000000/media", "token={s}", 401),
    ],
)
def test_a_lone_surrogate_cannot_reach_a_view_through_the_url(
    app, client, accounts, spelling, path, query, status
):
    """Query strings and paths are bytes: werkzeug decodes a path's invalid UTF-8 (a
    surrogate's bytes are) to U+FFFD and leaves an escaped one as it is, so no view ever
    holds a lone surrogate from a URL. Raw in a query string, those bytes were a 500
    (UnicodeDecodeError): now 400 ``bad_request``."""
    environ = {"PATH_INFO": path.format(s=spelling), "QUERY_STRING": query.format(s=spelling)}
    if "\xed" in environ["QUERY_STRING"]:
        status = 400  # a query string that is not UTF-8 is refused before any view reads it
    else:
        with app.test_request_context("/", environ_overrides=environ):
            seen = [request.path, *request.args.keys(), *request.args.values()]
        assert not any(LONE_SURROGATE.search(text) for text in seen), seen
    admin = accounts.user_with_token("admin")
    response = client.get("/", environ_overrides=environ, headers=accounts.bearer(admin))
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json


def test_a_surrogate_pair_is_one_character_and_fine(client):
    raw = '{"name": "Ada \\ud83d\\ude00", "email": "a@example.com", "password": "password"}'
    response = client.post("/auth/signup", data=raw, content_type="application/json")
    assert response.status_code == 201, response.json
    assert response.json["user"]["name"] == "Ada 😀"
