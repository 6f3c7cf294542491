"""Uploading through the API, waiting for processing, and reading what GridFS holds."""

import time

from models.db import get_db


def upload(client, headers, path, **fields):
    fields.setdefault("title", "My clip")
    with open(path, "rb") as body:
        return client.post(
            "/video/upload",
            headers=headers,
            content_type="multipart/form-data",
            data={**fields, "file": (body, path.name)},
        )


def wait_until_processed(client, headers, video_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/video/{video_id}/status", headers=headers).json["status"]
        if status != "processing":
            return client.get(f"/video/{video_id}", headers=headers).json["video"]
        time.sleep(0.1)
    raise AssertionError(f"video {video_id} still processing after {timeout}s")


def stored_media(app, video_id, tmp_path):
    """The stored rendition, copied out of GridFS, and the video document."""
    import gridfs
    from bson import ObjectId

    with app.app_context():
        database = get_db()
        video = database.videos.find_one({"_id": ObjectId(video_id)})
        target = tmp_path / "stored"
        with open(target, "wb") as out:
            gridfs.GridFSBucket(database).download_to_stream(video["media_file_id"], out)
    return video, target


def eventually(condition, timeout=10):
    """Whether ``condition()`` comes true within ``timeout`` seconds (polled).

    A job writes ``ready`` or ``failed`` first and deletes the source just after (only the
    lease holder may delete it, and the status write is what says who holds it), so what a
    test counts in GridFS right after the status changes may still include the source.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def ladder_file_ids(database, video):
    """The GridFS ids of the segments of ``video``'s published HLS ladder (none without one)."""
    ladder = (video.get("hls") or {}).get("ladder")
    if ladder is None:
        return set()
    query = {"metadata.role": "hls_segment", "metadata.ladder": ladder}
    return {document["_id"] for document in database.fs.files.find(query, {"_id": 1})}


def gridfs_counts(app):
    with app.app_context():
        database = get_db()
        return database.fs.files.count_documents({}), database.fs.chunks.count_documents({})
