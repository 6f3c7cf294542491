"""A range costs what it covers: only its GridFS chunks are read.

See docs/playback.md#how-bytes-are-read.
"""

import pytest
from pymongo import monitoring

from models.db import get_db
from models.media_chunks import CorruptFile
from models.media_file import CHUNK_SIZE
from tests.support.errors import assert_error


class ChunkReads(monitoring.CommandListener):
    """The ``n`` of every fs.chunks document a find/getMore brought back over the wire."""

    def __init__(self):
        self.recording = False
        self.numbers = []

    def started(self, event):
        pass

    def succeeded(self, event):
        if not self.recording or event.command_name not in ("find", "getMore"):
            return
        cursor = event.reply.get("cursor", {})
        if cursor.get("ns", "").endswith(".fs.chunks"):
            batch = cursor.get("firstBatch", cursor.get("nextBatch", []))
            self.numbers += [document["n"] for document in batch]

    def failed(self, event):
        pass


_listener = ChunkReads()
monitoring.register(_listener)  # clients made from now on report to it; idle unless recording


@pytest.fixture
def playing(library, viewer, multi_chunk_mp4):
    video = library.ready_video(multi_chunk_mp4)
    token = library.playback_token(video["id"], viewer)
    return video, f"/video/{video['id']}/media?token={token}"


def chunks_read(client, url, range_header):
    _listener.numbers, _listener.recording = [], True
    try:
        response = client.get(url, headers={"Range": range_header})
    finally:
        _listener.recording = False
    assert response.status_code == 206
    return response, _listener.numbers


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
@pytest.mark.parametrize(
    "first,last",
    [(0, 0), (4, 4), (2, 3), (5, 5)],
)
def test_only_the_covered_chunks_are_fetched(client, playing, first, last):
    video, url = playing
    size = len(video["bytes"])
    start = first * CHUNK_SIZE + 10
    end = min(last * CHUNK_SIZE + 100, size - 1)
    response, numbers = chunks_read(client, url, f"bytes={start}-{end}")
    assert response.data == video["bytes"][start : end + 1]
    assert numbers == list(range(first, last + 1))


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
def test_the_last_mebibyte_starts_at_its_own_chunk(client, playing):
    video, url = playing
    size = len(video["bytes"])
    response, numbers = chunks_read(client, url, "bytes=-300000")
    assert response.data == video["bytes"][-300000:]
    assert numbers == list(range((size - 300000) // CHUNK_SIZE, (size - 1) // CHUNK_SIZE + 1))


def test_a_late_range_never_touches_earlier_chunks(client, app, playing):
    """Remove the first chunks: a reader that starts from byte 0 could not answer."""
    video, url = playing
    with app.app_context():
        get_db().fs.chunks.delete_many({"files_id": video["media_file_id"], "n": {"$lt": 4}})
    start = 4 * CHUNK_SIZE + 5
    response = client.get(url, headers={"Range": f"bytes={start}-"})
    assert response.status_code == 206
    assert response.data == video["bytes"][start:]


def test_a_missing_first_chunk_is_a_json_500(client, app, playing):
    """The first chunk is read inside the request: its failure is an error, not a cut 206."""
    video, url = playing
    with app.app_context():
        get_db().fs.chunks.delete_one({"files_id": video["media_file_id"], "n": 2})
    response = client.get(url, headers={"Range": f"bytes={2 * CHUNK_SIZE + 7}-"})
    assert_error(response, 500)
    # Control: the same file, on chunks still there, is served (so the 500 was chunk 2's).
    for start, end in ((7, 2 * CHUNK_SIZE - 1), (3 * CHUNK_SIZE + 7, len(video["bytes"]) - 1)):
        control = client.get(url, headers={"Range": f"bytes={start}-{end}"})
        assert control.status_code == 206, (start, end, control.data[:200])
        assert control.data == video["bytes"][start : end + 1]


def test_a_missing_chunk_later_cuts_the_stream_short(client, app, playing):
    """Headers are gone by then: the stream ends early, never with wrong bytes."""
    video, url = playing
    with app.app_context():
        get_db().fs.chunks.delete_one({"files_id": video["media_file_id"], "n": 5})
    response = client.get(url)
    assert response.status_code == 200
    with pytest.raises(CorruptFile, match="chunk 5 is missing"):
        response.get_data()
