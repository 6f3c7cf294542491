"""The files a processing job makes for a video, and those a killed job left behind."""

from pymongo import ASCENDING

from models.db import get_db

# The files a processing job makes for a video (the source is the upload's, not the job's).
MADE_ROLES = ("media", "thumbnail")


def create_indexes(database):
    # Finds a video's files for the clean-up at the start of each job, without a scan.
    database.fs.files.create_index(
        [("metadata.video_id", ASCENDING), ("metadata.role", ASCENDING)], name="files_of_video"
    )


def leftover_files(video):
    """Ids of the files an earlier job made for ``video`` that it does not reference: a job
    killed between storing its rendition and writing the outcome leaves them. Only the lease
    holder calls this, so no live job is still making them."""
    kept = {video.get(field) for field in ("source_file_id", "media_file_id", "thumbnail_file_id")}
    found = get_db().fs.files.find(
        {"metadata.video_id": video["_id"], "metadata.role": {"$in": list(MADE_ROLES)}},
        {"_id": 1},
    )
    return [document["_id"] for document in found if document["_id"] not in kept]
