"""What processing left in the database, read straight from it: a video's document, the
GridFS files, those a ready video serves; and a hook on the store of HLS segments."""

from bson import ObjectId

from models import hls, media_file
from models.db import get_db
from tests.support.uploads import ladder_file_ids


def video_document(app, video_id):
    with app.app_context():
        return get_db().videos.find_one({"_id": ObjectId(video_id)})


def stored_file_ids(app):
    with app.app_context():
        return set(get_db().fs.files.distinct("_id"))


def referenced_file_ids(app, video):
    """What a ready ``video`` serves (its HLS ladder too); its source is deleted once a
    rendition replaces it."""
    fields = ("media_file_id", "thumbnail_file_id")
    with app.app_context():
        segments = ladder_file_ids(get_db(), video)
    return {video[field] for field in fields if video.get(field) is not None} | segments


def on_segment_store(monkeypatch, number, action):
    """``action(metadata)`` just before the ``number``-th HLS segment is stored (for real,
    unless ``action`` raises); the other stores (rendition, thumbnail) are untouched.
    Returns the segment numbers seen, in order."""
    real_store, seen = media_file.store, []

    def store(path, filename, content_type, metadata=None):
        if (metadata or {}).get("role") == hls.ROLE:
            seen.append(metadata["n"])
            if len(seen) == number:
                action(metadata)
        return real_store(path, filename, content_type, metadata)

    monkeypatch.setattr(media_file, "store", store)
    return seen
