"""Turns domain and database errors into the contract's JSON errors.

HTTP errors (404, 405, 413, 429, 500 ...) are shaped by ``JsonErrorApi``;
this module adds the service layer's errors and MongoDB being away.
"""

import logging

from flask import jsonify, request
from pymongo.errors import ConnectionFailure
from werkzeug.exceptions import RequestEntityTooLarge

from models.db import StartupRefused
from services.errors import ServiceError, Unavailable
from web.api import GENERAL_SENTENCE, error_sentence

log = logging.getLogger(__name__)

DATABASE_RETRY_SECONDS = "5"


def service_error_response(error):
    body = error.to_dict()
    if error.details and error.message == GENERAL_SENTENCE:
        # A service that refuses fields without a sentence of its own: as for the schemas,
        # one invalid field gives that field's sentence.
        body["error"] = error_sentence(error.details)
    response = jsonify(body)
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def database_unavailable(error):
    log.warning("database unreachable during %s %s: %s", request.method, request.path, error)
    return service_error_response(
        Unavailable(
            "The database is unreachable; please retry shortly.",
            code="database_unavailable",
            headers={"Retry-After": DATABASE_RETRY_SECONDS},
        )
    )


def startup_refused(error):
    """Start-up tasks that ran late (the database was away at start-up) found the service
    must not run: the process is stopping, and the reason is in its log."""
    return service_error_response(
        Unavailable(
            "The service cannot start as configured; see the server log.",
            code="startup_refused",
        )
    )


def limit_json_body():
    """Bound the body of every request except those a view allows to be large (uploads)."""
    view = request.url_rule and request.url_rule.endpoint
    from flask import current_app

    view_function = current_app.view_functions.get(view)
    if getattr(view_function, "large_body", False):
        # Room for the multipart envelope and form fields around the file.
        request.max_content_length = (current_app.config["MAX_UPLOAD_MB"] + 1) * 1024 * 1024
        return
    limit = current_app.config["MAX_JSON_KB"] * 1024
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge(f"The request body is over {limit // 1024} KiB.")


def init_app(app):
    app.register_error_handler(ServiceError, service_error_response)
    # ServerSelectionTimeoutError, AutoReconnect and NetworkTimeout are all
    # ConnectionFailures: the database is away, not the request at fault.
    app.register_error_handler(ConnectionFailure, database_unavailable)
    app.register_error_handler(StartupRefused, startup_refused)
    app.before_request(limit_json_body)
