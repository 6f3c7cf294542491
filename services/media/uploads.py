"""Accepting an upload: check the bytes, store them, queue the processing.

The request body has already been spooled to a temporary file by the
request parser (never held in memory). What it is comes from probing those
bytes, in a child process with bounded memory and time: a file that does
not decode, is out of bounds or exhausts the probe's budget is refused with
422 before anything is stored. The original goes to GridFS at once, so processing can resume
after a crash; if that copy or the document insert fails, nothing stays.
"""

from flask import current_app

from models import media_file
from models import user as users
from models import video as videos
from models.vocabulary import PUBLIC
from services import erasure, library
from services.errors import ServiceError, Unauthorized
from services.media.probe import NotMedia
from services.media.sandbox import SandboxFailed, probe_upload
from services.media.stored_probe import probe_stored


class UnsupportedMedia(ServiceError):
    status = 422
    code = "unsupported_media"
    message = "The file is not a video or audio file we can decode."


class TooLarge(ServiceError):
    status = 413
    code = "upload_too_large"
    message = "The file is larger than the upload limit."


def accept(owner, upload_path, filename, fields):
    """Store an upload for ``owner`` (a user document) and queue its processing: the new
    video. Who may upload is checked before the body is read (services.access); the access
    level and price (services.library.access_fields) before the file is probed."""
    priced = library.access_fields(fields)
    info = _probed(upload_path)
    file_id, size, sha256 = media_file.store(
        upload_path,
        filename or "upload",
        "application/octet-stream",
        {"role": "source", "owner_id": owner["_id"]},
    )
    source = {"source_file_id": file_id, "source_size": size, "source_sha256": sha256}
    return _new_video(owner, {**fields, **priced}, filename, info, source)


def accept_stored(owner, file_id, size, sha256, filename, fields, video_id):
    """The same for a file already in GridFS (a finished resumable upload, whose fields
    were checked at its creation): probed from there, and the video ``video_id`` made,
    or found when a retried finish made it already. ``sha256`` None: hashed as it is probed."""
    existing = videos.find(video_id)
    if existing is not None:
        return existing
    try:
        info, hashed = probe_stored(file_id, size, current_app.config, sha256 is None)
    except (NotMedia, SandboxFailed) as error:
        raise UnsupportedMedia(details={"file": [str(error)[:300]]}) from error
    source = {"source_file_id": file_id, "source_size": size, "source_sha256": sha256 or hashed}
    return _new_video(owner, {**fields, "_id": video_id}, filename, info, source)


def _new_video(owner, fields, filename, info, source):
    """The video document of a stored, probed upload, its processing queued (the stored
    file goes if the insert fails)."""
    try:
        video = videos.insert(
            {
                **({"_id": fields["_id"]} if "_id" in fields else {}),
                "owner_id": owner["_id"],
                "owner_name": owner["name"],
                "title": fields["title"],
                "description": fields.get("description", ""),
                "category": fields.get("category"),
                "tags": fields.get("tags", []),
                "visibility": fields.get("visibility", PUBLIC),
                "access": fields["access"],
                "price": fields["price"],
                "original_filename": filename,
                "kind": info.kind,
                "duration": info.duration,
                **source,
            }
        )
    except BaseException:
        media_file.delete(source["source_file_id"])
        raise
    _unless_owner_deleted(owner, video)
    current_app.extensions["media_jobs"].submit(video["_id"])
    return video


def _probed(upload_path):
    """What the upload is (probed in the sandbox): 413 over the limit, 422 not media."""
    limit_mb = current_app.config["MAX_UPLOAD_MB"]
    if upload_path.stat().st_size > limit_mb * 1024 * 1024:
        raise TooLarge(f"The file is larger than the upload limit of {limit_mb} MiB.")
    try:
        return probe_upload(upload_path, current_app.config)
    except (NotMedia, SandboxFailed) as error:
        raise UnsupportedMedia(details={"file": [str(error)[:300]]}) from error


def _unless_owner_deleted(owner, video):
    """401 when the account was deleted while this upload ran (its sessions ended after the
    check at the start): the deletion job may have looked for the account's videos before
    this one existed, so this one goes here. The deletion removes the user document before
    its job looks, so one of the two always sees the video."""
    if users.find_by_id(owner["_id"]) is None:
        erasure.remove_video(video["_id"])
        raise Unauthorized("The account no longer exists.", code="invalid_token")
