"""Reads of a stored HLS ladder: its segments in GridFS and its key (the playback side).

The layout is the ladder store's (models/hls.py writes it): each segment is one GridFS
file of bucket ``fs`` whose ``metadata`` holds ``{video_id, role: "hls_segment", ladder,
rendition, n, duration, iv, sha256}``; the key is ``hls_keys {_id: ladder, video_id,
key}``. Every segment query names the role, so the partial index ``hls_segment``
(metadata.video_id, ladder, rendition, n) serves it; a video's first segment costs what
its thousandth does.
"""

from models.db import get_db

SEGMENT_ROLE = "hls_segment"
KEYS = "hls_keys"


def _segments_of(video_id, ladder, rendition):
    return {
        "metadata.video_id": video_id,
        "metadata.ladder": ladder,
        "metadata.rendition": rendition,
        "metadata.role": SEGMENT_ROLE,
    }


def segment_file(video_id, ladder, rendition, n):
    """The ``fs.files`` document of segment ``n`` (what media_response.serve reads:
    length, chunkSize, uploadDate, and the metadata's sha256 for the ETag), or None."""
    query = {**_segments_of(video_id, ladder, rendition), "metadata.n": n}
    projection = {"length": 1, "chunkSize": 1, "uploadDate": 1, "metadata.sha256": 1}
    return get_db().fs.files.find_one(query, projection)


def segment_list(video_id, ladder, rendition):
    """[{n, duration, iv}] of a rendition, in playback order (empty for an unknown one)."""
    found = (
        get_db()
        .fs.files.find(
            _segments_of(video_id, ladder, rendition),
            {"_id": 0, "metadata.n": 1, "metadata.duration": 1, "metadata.iv": 1},
        )
        .sort("metadata.n", 1)
    )
    return [
        {"n": m["n"], "duration": m["duration"], "iv": m["iv"]}
        for m in (document["metadata"] for document in found)
    ]


def ladder_key(ladder):
    """The ladder's 16-byte AES key, or None. Only the key route calls this; the key is
    never logged, nor put on the video document (whose reads reach listings and exports)."""
    found = get_db()[KEYS].find_one({"_id": ladder}, {"key": 1})
    return bytes(found["key"]) if found else None
