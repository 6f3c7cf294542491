"""/ and /health."""

import marshmallow as ma
from flask import Blueprint
from pymongo.errors import PyMongoError
from swagger_ui_bundle import swagger_ui_path

from models.db import get_mongo
from services.errors import Unavailable
from web.api import ApiBlueprint
from web.errors import DATABASE_RETRY_SECONDS

VERSION = "1.0.0"

blp = ApiBlueprint("meta", __name__, description="Service information")

# Swagger UI's scripts and styles, from the swagger-ui-bundle package: the
# /docs page (flask-smorest's) loads them from here, never from a CDN.
docs_assets = Blueprint(
    "docs_assets", __name__, static_folder=swagger_ui_path, static_url_path="/docs/assets"
)


class IndexSchema(ma.Schema):
    message = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    version = ma.fields.String(required=True)


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True)
    database = ma.fields.String(required=True)


@blp.route("/", methods=["GET"])
@blp.response(200, IndexSchema)
def index():
    """The service's name, state and version."""
    return {"message": "Video App API", "status": "running", "version": VERSION}


@blp.route("/health", methods=["GET"])
@blp.response(200, HealthSchema)
@blp.alt_response(503, description="MongoDB is unreachable")
def health():
    """200 when MongoDB answers, 503 when it does not."""
    try:
        get_mongo().ping()
    except PyMongoError as error:
        raise Unavailable(
            "The database is unreachable.",
            code="database_unavailable",
            details={"database": "unreachable"},
            headers={"Retry-After": DATABASE_RETRY_SECONDS},
        ) from error
    return {"status": "ok", "database": "ok"}
