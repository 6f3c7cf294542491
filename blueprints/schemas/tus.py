"""The tus 1.0 request headers (docs/uploads.md), and Upload-Metadata read into the video's
fields by the upload form's own schema."""

import base64
import binascii

import marshmallow as ma
from marshmallow import validate

from blueprints.schemas.videos import UploadSchema
from services.errors import InvalidInput
from web.api import error_sentence

TUS_VERSION = "1.0.0"
FIELDS = ("title", "description", "category", "tags", "visibility", "access", "price")
FILENAME_KEYS = ("filename", "name")  # what tus-js-client, Uppy and tuspy send, if anything
MAX_OFFSET = 2**53  # far past any MAX_UPLOAD_MB; keeps numbers exact in every client
CHECKSUM_PATTERN = r"^sha1 [A-Za-z0-9+/]{27}=$"
# A PATCH's body: raw bytes, documented by hand (webargs reads no such body).
PATCH_BODY = {
    "required": True,
    "content": {
        "application/offset+octet-stream": {"schema": {"type": "string", "format": "binary"}}
    },
}


def _header(name, description, **kwargs):
    return {"data_key": name, "metadata": {"description": description}, **kwargs}


def _offset(name, description, lowest=0):
    return ma.fields.Integer(
        required=True,
        strict=False,
        validate=validate.Range(min=lowest, max=MAX_OFFSET),
        **_header(name, description),
    )


class TusHeaders(ma.Schema):
    # Checked before anything else (412, blueprints/uploads.py); the enum documents it.
    tus_resumable = ma.fields.String(
        required=True,
        validate=validate.OneOf([TUS_VERSION]),
        **_header("Tus-Resumable", f"The protocol version: `{TUS_VERSION}` (412 otherwise)"),
    )


class CreationHeaders(TusHeaders):
    upload_length = _offset(
        "Upload-Length", "The file's size in bytes, 1 to MAX_UPLOAD_MB MiB (413 above)", 1
    )
    upload_metadata = ma.fields.String(
        load_default="",
        **_header(
            "Upload-Metadata",
            "`key base64(value)` pairs, comma-separated: `title` (required), `description`, "
            "`category`, `tags` (comma-separated), `visibility`, `access`, `price`, by the "
            "rules of `POST /video/upload`; `filename` or `name` is kept as the original "
            "name; other keys are ignored",
        ),
    )


class PatchHeaders(TusHeaders):
    upload_offset = _offset("Upload-Offset", "Where this body starts: HEAD's Upload-Offset")
    upload_checksum = ma.fields.String(
        data_key="Upload-Checksum",
        metadata={
            "description": "`sha1 <base64 of the body's SHA-1>` (460 on mismatch; another "
            "algorithm is 400)",
            "pattern": CHECKSUM_PATTERN,
        },
    )


def metadata_fields(header):
    """(the video's fields, the original filename) from ``Upload-Metadata``: 400 when it is
    malformed or a field breaks the upload form's rules."""
    metadata = parse_metadata(header)
    sent = {key: value for key, value in metadata.items() if key in FIELDS}
    try:
        fields = UploadSchema(exclude=("file",)).load(sent)
    except ma.ValidationError as error:
        raise InvalidInput(error_sentence(error.messages), details=error.messages) from None
    filename = next((metadata[key] for key in FILENAME_KEYS if metadata.get(key)), None)
    return fields, filename


def parse_metadata(header):
    """``key base64,key base64`` (a key may come without a value: empty)."""
    found = {}
    for pair in (header or "").split(","):
        if not pair.strip():
            continue
        key, _, value = pair.strip().partition(" ")
        if " " in value.strip() or key in found:
            raise _bad_metadata(f"'{key[:40]}' is not a well-formed key and value.")
        try:
            found[key] = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _bad_metadata(f"The value of '{key[:40]}' is not base64 of UTF-8 text.") from None
    return found


def _bad_metadata(sentence):
    return InvalidInput(
        f"Upload-Metadata is invalid: {sentence}",
        code="invalid_metadata",
        details={"Upload-Metadata": [sentence]},
    )


def sha1_checksum(header):
    """The digest an ``Upload-Checksum`` header asks for (None without one): 400 for another
    algorithm or a value that is not base64 of 20 bytes."""
    if header is None:
        return None
    algorithm, _, value = header.strip().partition(" ")
    if algorithm.lower() != "sha1":
        raise InvalidInput(
            "Upload-Checksum: only sha1 is supported.",
            code="unsupported_checksum_algorithm",
            details={"Upload-Checksum": ["Only sha1 is supported."]},
        )
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except binascii.Error:
        digest = b""
    if len(digest) != 20:
        message = "Upload-Checksum: the value is not base64 of a SHA-1 digest."
        raise InvalidInput(message, code="invalid_checksum", details={"Upload-Checksum": [message]})
    return digest
