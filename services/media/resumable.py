"""Resumable uploads (tus 1.0: core, creation, termination, expiration, checksum): the rules.

An upload is created with its length and the video's fields (checked at once, as the form
of ``POST /video/upload`` is), then receives its bytes in PATCHes, each one appended where
the last stopped (services.media.tus_body streams it into GridFS), and once complete goes
through the same probe and processing as the form upload (services.media.uploads). Unfinished
uploads expire UPLOAD_EXPIRY_HOURS after their creation; the media sweep removes them.
"""

import logging
from datetime import timedelta

from bson import ObjectId
from flask import current_app

from models import tus_chunks
from models import tus_upload as uploads
from models import user as users
from models import video as videos
from models.common import object_id, utcnow
from services import library
from services.errors import Conflict, NotFound, ServiceError
from services.media import tus_body
from services.media.uploads import TooLarge, UnsupportedMedia, accept_stored

log = logging.getLogger(__name__)

EXPIRED_PER_SWEEP = 50
STRANDED_PER_SWEEP = 10


class Gone(ServiceError):
    status = 410
    code = "upload_expired"
    message = "This upload has expired; start a new one."


class OffsetMismatch(Conflict):
    code = "offset_mismatch"
    message = "Upload-Offset is not where this upload stands, or another PATCH is under way."


def create(owner, length, fields, filename):
    """A new upload of ``length`` bytes for ``owner`` (a creator's user document), with the
    video's ``fields`` (the upload form's schema checked them: blueprints.schemas.tus)."""
    limit_mb = current_app.config["MAX_UPLOAD_MB"]
    if length > limit_mb * 1024 * 1024:
        raise TooLarge(f"The file is larger than the upload limit of {limit_mb} MiB.")
    fields = checked_fields(fields)
    hours = current_app.config["UPLOAD_EXPIRY_HOURS"]
    expires = utcnow() + timedelta(hours=hours)
    return uploads.create(owner["_id"], length, fields, filename, expires)


def checked_fields(fields):
    """The form's price rules on the fields the schema let through (400 otherwise)."""
    return {**fields, **library.access_fields(fields)}


def owned(caller, upload_id):
    """The caller's upload: 404 when unknown or someone else's, 410 once expired."""
    upload = uploads.find(object_id(upload_id))
    if upload is None or upload["owner_id"] != caller.user["_id"]:
        raise NotFound("No such upload.", code="upload_not_found")
    if upload["video_id"] is None and upload["expires_at"] <= utcnow():
        raise Gone()
    return upload


def receive(caller, upload_id, offset, body, checksum=None):
    """Append a PATCH's ``body`` (its stream and Content-Length) at ``offset``: the upload
    afterwards (with ``video_id`` once complete). 409 when ``offset`` is not the upload's or
    another PATCH holds it; ``checksum``: the sha1 digest the body must have (460)."""
    upload = owned(caller, upload_id)
    if upload["video_id"] is not None or offset != upload["offset"]:
        raise OffsetMismatch()
    stream, content_length = body
    if content_length is not None and offset + content_length > upload["length"]:
        raise tus_body.TooLong()
    token = uploads.take_lease(upload["_id"], offset)
    if token is None:
        raise OffsetMismatch()
    try:
        upload["offset"] = tus_body.append(upload, token, stream, content_length, checksum)
        if upload["offset"] == upload["length"]:
            upload["video_id"] = _finish(caller.user, upload, token)
    finally:
        uploads.release(upload["_id"], token)
    return upload


def _finish(owner, upload, token):
    """The complete upload becomes a video: probed, stored, queued (or 422, and nothing of
    it stays). Retried by a PATCH at the end if a crash stopped it half-way."""
    file_id, length = upload["file_id"], upload["length"]
    metadata = {"role": "source", "owner_id": owner["_id"]}
    filename = upload["filename"] or "upload"
    tus_chunks.write_file(file_id, length, filename, metadata)
    try:
        # None when its bytes came through other processes: hashed as the probe reads them.
        sha256 = tus_body.digests.pop(upload["_id"], length)
        video_id = uploads.plan_video(upload["_id"], token, ObjectId())
        video = accept_stored(owner, file_id, length, sha256, filename, upload["fields"], video_id)
    except UnsupportedMedia:
        tus_chunks.delete(file_id)
        uploads.delete(upload["_id"])
        raise
    uploads.finished(upload["_id"], token, video["_id"])
    return video["_id"]


def terminate(caller, upload_id):
    """DELETE: an unfinished upload and its bytes go (a finished one is its video's now).
    Not while a PATCH streams into it (409): its next chunks would outlive the upload. The
    termination holds the lease itself, so none starts; a crash half-way leaves the
    document, which the sweep removes with what is left at its expiry."""
    upload = owned(caller, upload_id)
    if upload["video_id"] is None:
        if uploads.take_lease(upload["_id"]) is None:
            raise tus_body.LeaseLost("A PATCH is under way on this upload; try again after it.")
        tus_chunks.delete(upload["file_id"])
    uploads.delete(upload["_id"])


def _became_a_video(upload):
    """Finished, or its finish made the video before a crash kept it from saying so: the
    file is that video's source then, not the sweep's to remove."""
    planned = upload.get("planned_video_id")
    return upload["video_id"] is not None or (planned is not None and videos.find(planned))


def remove_expired():
    """The media sweep's part: expired uploads, their chunks first (a finished upload's
    file is its video's: only the document goes). Call in an app context."""
    for upload in uploads.expired(EXPIRED_PER_SWEEP):  # none a PATCH holds
        if not _became_a_video(upload):
            tus_chunks.delete(upload["file_id"])
        uploads.delete(upload["_id"])
        log.info("removed expired upload %s", upload["_id"])


def finish_stranded():
    """The media sweep's part: complete uploads whose process died before their video was
    made (their client got no ``Video-Id``; HEAD says offset == length). Finished here as
    their last PATCH would have: probed, made a video, or 422's cleanup. Call in an app
    context; a failure is logged and retried at the next sweep, until the upload expires."""
    for upload in uploads.stranded(STRANDED_PER_SWEEP):
        token = uploads.take_lease(upload["_id"], upload["length"])
        if token is None:
            continue  # a PATCH took it meanwhile
        try:
            _finish_for_its_owner(upload, token)
        except UnsupportedMedia:
            log.info("stranded upload %s was not media: removed", upload["_id"])
        except Exception:  # retried at the next sweep; the upload expires in the end
            log.exception("stranded upload %s not finished", upload["_id"])
        finally:
            uploads.release(upload["_id"], token)


def _finish_for_its_owner(upload, token):
    owner = users.find_by_id(upload["owner_id"])
    if owner is None:  # the account went meanwhile: so does its upload
        tus_chunks.delete(upload["file_id"])
        uploads.delete(upload["_id"])
        return
    video_id = _finish(owner, upload, token)
    log.info("stranded upload %s finished as video %s", upload["_id"], video_id)
