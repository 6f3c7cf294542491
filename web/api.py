"""flask-smorest, adapted to the contract's error shape and 400 for bad input.

flask-smorest answers errors as ``{code: 404, status, message}`` and bad
arguments with 422; docs/conventions.md#errors wants ``{error, code: "snake_case", details}``
and 400. These two subclasses change exactly that and keep the rest
(OpenAPI generation, argument parsing, response dumping).
"""

import logging
import re

import marshmallow as ma
from flask_smorest import Api, Blueprint
from webargs.flaskparser import FlaskParser, abort
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import BaseConverter

from models.common import OBJECT_ID_HEX
from services.errors import InvalidInput

log = logging.getLogger(__name__)


class ErrorSchema(ma.Schema):
    """Every error body (documentation only: the handler builds it)."""

    error = ma.fields.String(
        required=True,
        metadata={
            "description": "A human sentence, fit to show as is: when exactly one field is "
            "invalid, that field's own sentence (e.g. \"Password must be at least 8 "
            'characters."); with several, a general one and each field in details'
        },
    )
    code = ma.fields.String(required=True, metadata={"description": "snake_case error code"})
    details = ma.fields.Dict(metadata={"description": "Per-field messages, when there are any"})


def error_code_for(http_error):
    """``Not Found`` → ``not_found``; validation failures get ``validation_error``."""
    if http_error.code in (400, 422) and _validation_messages(http_error):
        return "validation_error"
    return (http_error.name or "error").lower().replace(" ", "_").replace("'", "")


def _validation_messages(http_error):
    data = getattr(http_error, "data", None) or {}
    return data.get("errors") or data.get("messages")


LOCATIONS = ("json", "query", "form", "files", "multipart", "headers", "view_args")


def _flatten_locations(messages):
    """webargs nests messages by location ({"json": {...}}); clients want the fields.

    Only per-field messages are unwrapped: a message about the whole body (a
    list, e.g. "Invalid JSON body.") keeps its location, so ``details`` is
    always an object, as the Error schema says (found by schemathesis).
    """
    if isinstance(messages, dict) and len(messages) == 1:
        ((location, inner),) = messages.items()
        if location in LOCATIONS and isinstance(inner, dict):
            return inner
    return messages


GENERAL_SENTENCE = InvalidInput.message  # "Some fields are invalid."

# marshmallow's own messages do not say which field they are about ("Missing data for
# required field."): each is rewritten into a sentence that names it. Messages written
# for one field ("Password must be at least 8 characters.") already do, and are kept.
GENERIC_MESSAGES = [
    (r"Missing data for required field\.", lambda label, _: f"{label} is required."),
    (r"Field may not be null\.", lambda label, _: f"{label} must not be null."),
    (r"Not a valid (.+)", lambda label, found: f"{label} is not a valid {found[1]}"),
    (r"Must (.+)", lambda label, found: f"{label} must {found[1]}"),
    (
        r"(Longer|Shorter) than (maximum|minimum) length (.+)",
        lambda label, found: f"{label} is {found[1].lower()} than the {found[2]} length {found[3]}",
    ),
    (r"Length must (.+)", lambda label, found: f"{label} length must {found[1]}"),
    (r"Invalid value\.", lambda label, _: f"{label} is invalid."),
    (r"Invalid input type\.", lambda label, _: f"{label} is of the wrong type."),
    (r"Number too large\.", lambda label, _: f"{label} is too large."),
    (
        r"String does not match expected pattern\.",
        lambda label, _: f"{label} does not match the expected pattern.",
    ),
]


def error_sentence(messages, general=GENERAL_SENTENCE):
    """``error`` for validation ``messages``: the field's own sentence when exactly one
    field is invalid, else ``general``.

    ``messages`` are webargs' (by location: ``{"json": {"password": [...]}}``) or a
    service's (by field). A message about the whole body ("Invalid JSON body.") is its
    own sentence.
    """
    location = None
    if isinstance(messages, dict) and len(messages) == 1:
        ((key, inner),) = messages.items()
        if key in LOCATIONS:
            if not isinstance(inner, dict):
                return " ".join(message for _, message in _leaves(inner, []))
            location, messages = key, inner
    if not isinstance(messages, dict) or len(messages) != 1:
        return general
    ((name, problems),) = messages.items()
    return " ".join(
        _field_sentence(str(name), path, message, location)
        for path, message in _leaves(problems, [])
    )


def _leaves(problems, path):
    """(path inside the field, message) for each message: a list's items and a nested
    object's fields are reported under their index or name."""
    if isinstance(problems, dict):
        for key, inner in problems.items():
            yield from _leaves(inner, [*path, str(key)])
    elif isinstance(problems, list | tuple):
        for problem in problems:
            yield from _leaves(problem, path)
    else:
        yield path, str(problems)


def _field_sentence(name, path, message, location):
    if name == "_schema" and message == "Invalid input type.":
        return "The request body must be a JSON object."
    if name == "_schema":
        return message
    if message == "Unknown field." and not path:
        kind = "query parameter" if location == "query" else "field"
        return f"Unknown {kind}: {name}."
    label = name.replace("_", " ").capitalize() + "".join(
        f"[{part}]" if part.isdigit() else f".{part}" for part in path
    )
    if message.lower().startswith(label.lower()):
        return message  # written for this field
    for pattern, sentence in GENERIC_MESSAGES:
        found = re.fullmatch(pattern, message)
        if found:
            return sentence(label, found)
    return f"{label}: {message}"


def json_error_body(http_error):
    data = getattr(http_error, "data", None) or {}
    messages = _validation_messages(http_error)
    if messages:
        message = error_sentence(messages)
    else:
        message = data.get("message") or http_error.description or http_error.name
    body = {"error": message, "code": error_code_for(http_error)}
    if messages:
        body["details"] = _with_text_keys(_flatten_locations(messages))
    return body


def _with_text_keys(messages):
    """JSON keys are text: a form field sent without a name is reported under "None"
    (it was a 500, found by schemathesis: sorting the keys met None)."""
    if isinstance(messages, dict):
        return {str(key): _with_text_keys(value) for key, value in messages.items()}
    return messages


class JsonErrorApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        if isinstance(error, InternalServerError):
            original = getattr(error, "original_exception", None)
            if original is not None:
                log.error("unhandled error", exc_info=original)
            error.description = "Something went wrong on our side."
        # Start from werkzeug's own response so headers such as a 416's
        # Content-Range, a 405's Allow or a 429's Retry-After survive.
        headers = {
            key: value
            for key, value in error.get_response().headers.items()
            if key.lower() not in ("content-type", "content-length")
        }
        data = getattr(error, "data", None) or {}
        headers.update(data.get("headers") or {})
        return json_error_body(error), error.code, headers


class StrictParser(FlaskParser):
    """400 for bad input, and unknown query parameters refused like unknown JSON fields.

    ``multipart`` reads a form's file parts and text fields as one set of arguments, so one
    schema validates them together and documents them as one multipart request body (with
    ``form`` and ``files`` apart, flask-smorest documents the text fields as OpenAPI 2
    ``formData`` parameters, which OpenAPI 3 tools ignore: found by schemathesis).
    """

    DEFAULT_VALIDATION_STATUS = 400
    DEFAULT_UNKNOWN_BY_LOCATION = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
        "multipart": None,  # the schema's own rule (StrictSchema: RAISE)
    }
    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def _raw_load_json(self, req):
        data = super()._raw_load_json(req)
        if _has_lone_surrogate(data):
            # JSON may escape half a UTF-16 pair ("\\ud800"): no character, so no UTF-8
            # and no BSON string can hold it (it was a 500). I-JSON (RFC 7493) refuses it too.
            abort(
                400,
                messages={"json": ["Invalid JSON body: a \\u escape is half a surrogate pair."]},
            )
        return data

    def load_multipart(self, req, schema):
        # Files first: a text field cannot stand in for a file part of the same name.
        return MultiDictProxy(CombinedMultiDict([req.files, req.form]), schema)


LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads joins the pairs that are whole


def _has_lone_surrogate(value):
    if isinstance(value, str):
        return LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(key) or _has_lone_surrogate(v) for key, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


class ObjectIdConverter(BaseConverter):
    """``<objectid:video_id>``: only a 24-digit hex id matches; the view gets it lower-cased.

    Without it ``/video/<video_id>`` also matched ``/video/upload``, so OPTIONS there
    offered GET, PATCH and DELETE (found by schemathesis). Anything else is a plain 404.
    Lower-cased because ids are compared as text too (a playback token's ``vid``).
    """

    regex = OBJECT_ID_HEX

    def to_python(self, value):
        return value.lower()

    @staticmethod
    def openapi_schema(_converter):
        return {"type": "string", "pattern": f"^{OBJECT_ID_HEX}$"}


def register_converters(app):
    app.url_map.converters["objectid"] = ObjectIdConverter


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = StrictParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }

    def alt_response(self, status_code, response=None, *, schema=None, **kwargs):
        """An error status documents the error body unless told otherwise."""
        if response is None and schema is None and int(status_code) >= 400:
            schema = ErrorSchema
        return super().alt_response(status_code, response, schema=schema, **kwargs)


__all__ = [
    "ApiBlueprint",
    "ErrorSchema",
    "HTTPException",
    "JsonErrorApi",
    "ObjectIdConverter",
    "error_sentence",
    "json_error_body",
    "register_converters",
]
