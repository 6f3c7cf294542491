"""/uploads/: resumable uploads, tus 1.0 (core, creation, termination, expiration, checksum).

docs/uploads.md says how a client resumes. Every answer carries ``Tus-Resumable``; errors
keep the API's JSON body. The rules are services.media.resumable's.
"""

from flask import Response, current_app, request
from werkzeug.http import http_date

from blueprints.schemas.tus import (
    PATCH_BODY,
    TUS_VERSION,
    CreationHeaders,
    PatchHeaders,
    TusHeaders,
    metadata_fields,
    sha1_checksum,
)
from services import access
from services.errors import ServiceError
from services.media import resumable
from services.urls import base_url
from web.api import ApiBlueprint
from web.guards import auth_required, current_caller
from web.upload_spool import allow_large_body

blp = ApiBlueprint(
    "uploads", __name__, url_prefix="/uploads", description="Resumable uploads (tus 1.0)"
)
EXTENSIONS = "creation,termination,expiration,checksum"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"


class UnsupportedVersion(ServiceError):
    status = 412
    code = "unsupported_tus_version"
    message = f"This server speaks tus {TUS_VERSION}: send 'Tus-Resumable: {TUS_VERSION}'."


class WrongContentType(ServiceError):
    status = 415
    code = "unsupported_media_type"
    message = f"A PATCH body is sent as Content-Type: {OFFSET_CONTENT_TYPE}."


@blp.before_request
def require_tus_version():
    """412 for any other version (OPTIONS, the discovery and a browser's preflight, excepted)."""
    if request.method != "OPTIONS" and request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise UnsupportedVersion(headers={"Tus-Version": TUS_VERSION})


@blp.after_request
def tus_headers(response):
    response.headers["Tus-Resumable"] = TUS_VERSION
    return response


@blp.route("/", methods=["OPTIONS"])
@blp.response(204, description="What this server supports, in the Tus-* headers")
def discover():
    """The tus capabilities: version, extensions, checksum algorithm, largest upload."""
    headers = {
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": EXTENSIONS,
        "Tus-Checksum-Algorithm": "sha1",
        "Tus-Max-Size": str(current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024),
    }
    return _empty(204, headers)


VERSION_412 = "Tus-Resumable is not 1.0.0 (`Tus-Version` says which is)"


@blp.route("/", methods=["POST"])
@auth_required(access.require_uploader)
@blp.arguments(CreationHeaders, location="headers")
@blp.response(201, description="Created: its URL in Location")
@blp.alt_response(412, description=VERSION_412)
@blp.alt_response(400, description="Invalid Upload-Length or Upload-Metadata (the form's rules)")
@blp.alt_response(413, description="Upload-Length over MAX_UPLOAD_MB")
def create(headers):
    """Start a resumable upload of Upload-Length bytes, the video's fields in Upload-Metadata."""
    fields, filename = metadata_fields(headers["upload_metadata"])
    upload = resumable.create(current_caller().user, headers["upload_length"], fields, filename)
    location = f"{base_url()}/uploads/{upload['_id']}"
    return _empty(201, {"Location": location, **_state(upload)})


@blp.route("/<upload_id>", methods=["HEAD"])
@auth_required(access.require_uploader)
@blp.arguments(TusHeaders, location="headers")
@blp.response(200, description="Upload-Offset, Upload-Length, Upload-Expires; Video-Id once done")
@blp.alt_response(412, description=VERSION_412)
@blp.alt_response(404, description="Unknown, or another user's")
@blp.alt_response(410, description="Expired before it was finished")
def status(headers, upload_id):
    """Where an upload stands: resume with a PATCH at its Upload-Offset."""
    upload = resumable.owned(current_caller(), upload_id)
    return _empty(200, {**_state(upload), "Cache-Control": "no-store"})


@blp.route("/<upload_id>", methods=["PATCH"])
@allow_large_body
@auth_required(access.require_uploader)
@blp.arguments(PatchHeaders, location="headers")
@blp.doc(requestBody=PATCH_BODY)
@blp.response(204, description="Stored: the new Upload-Offset; Video-Id when it was the last")
@blp.alt_response(412, description=VERSION_412)
@blp.alt_response(404, description="Unknown, or another user's")
@blp.alt_response(409, description="Upload-Offset is not the upload's, or another PATCH holds it")
@blp.alt_response(410, description="Expired before it was finished")
@blp.alt_response(415, description=f"Content-Type is not {OFFSET_CONTENT_TYPE}")
@blp.alt_response(422, description="Complete, but not a decodable video or audio file: gone")
@blp.alt_response(460, description="Upload-Checksum does not match: the body was not kept")
def append(headers, upload_id):
    """Append the body (application/offset+octet-stream) at Upload-Offset."""
    if request.mimetype != OFFSET_CONTENT_TYPE:
        raise WrongContentType()
    checksum = sha1_checksum(headers.get("upload_checksum"))
    body = (request.stream, request.content_length)
    upload = resumable.receive(
        current_caller(), upload_id, headers["upload_offset"], body, checksum
    )
    return _empty(204, _state(upload))


@blp.route("/<upload_id>", methods=["DELETE"])
@auth_required(access.require_uploader)
@blp.arguments(TusHeaders, location="headers")
@blp.response(204, description="Terminated: its bytes are gone")
@blp.alt_response(412, description=VERSION_412)
@blp.alt_response(404, description="Unknown, or another user's")
@blp.alt_response(409, description="A PATCH is streaming into it: `upload_busy`")
@blp.alt_response(410, description="Expired before it was finished")
def terminate(headers, upload_id):
    """Abandon an upload (termination); a finished one's video stays."""
    resumable.terminate(current_caller(), upload_id)
    return _empty(204, {})


def _empty(status, headers):
    """tus answers are headers only: no body, so no Content-Type."""
    response = Response(status=status, headers=headers)
    del response.headers["Content-Type"]
    return response


def _state(upload):
    headers = {
        "Upload-Offset": str(upload["offset"]),
        "Upload-Length": str(upload["length"]),
        "Upload-Expires": http_date(upload["expires_at"]),
    }
    if upload["video_id"] is not None:
        headers["Video-Id"] = str(upload["video_id"])
    return headers
