"""The byte routes with the media cache on: its settings, warming it with a video's files, and
counting where each answer came from (the cache's own lookups, observed, not replaced)."""

from bson import ObjectId

from extensions import media_chunks
from models import media_file
from models import video as videos
from models.db import get_db

CACHE_MB = 256
WAIT = 60  # a safety net for the fills; never what a test asserts


def cache_settings(directory):
    return {"MEDIA_CACHE_MB": CACHE_MB, "MEDIA_CACHE_DIR": str(directory)}


def stored_files(video_id):
    """(fs.files document, sha256) of everything a video's byte routes serve from GridFS: the
    rendition, the thumbnail and every HLS segment. Call inside an app context."""
    video = videos.find(ObjectId(video_id))
    found = [
        (media_file.find_file(video.get("media_file_id")), video.get("sha256")),
        (media_file.find_file(video.get("thumbnail_file_id")), video.get("thumbnail_sha256")),
    ]
    ladder = (video.get("hls") or {}).get("ladder")
    if ladder is not None:
        query = {"metadata.video_id": video["_id"], "metadata.ladder": ladder}
        found += [(doc, doc["metadata"]["sha256"]) for doc in get_db().fs.files.find(query)]
    return [(doc, sha256) for doc, sha256 in found if doc is not None and sha256]


def warm(app, video_id):
    """Fill the cache with the video's files and wait: the routes then answer from the copies.
    Returns how many files were cached."""
    cache = app.extensions["media_cache"]
    with app.app_context():
        files = stored_files(video_id)
        for doc, sha256 in files:
            cache.want(doc, sha256, media_chunks.read)
    assert cache.wait_idle(WAIT), "the cache's fills did not finish"
    with app.app_context():
        for doc, sha256 in files:
            copy = cache.lookup(doc, sha256)
            assert copy is not None, f"file {doc['_id']} was not cached"
            copy.close()
    return len(files)


class Lookups:
    """Counts the cache's hits and misses, by wrapping the app's cache's ``lookup``."""

    def __init__(self, app):
        self.hits = self.misses = 0
        cache = app.extensions["media_cache"]
        original = cache.lookup

        def counted(file_doc, sha256):
            copy = original(file_doc, sha256)
            if copy is None:
                self.misses += 1
            else:
                self.hits += 1
            return copy

        cache.lookup = counted
