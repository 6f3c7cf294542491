"""A ready video with a real encrypted HLS ladder, and a viewer's playback token for it.

The ladder (360p and 240p, 1 s segments) is encoded once per run by the real encoder and
stored for each test's video by processing's own store (tests/support/hls_ladders.py).
"""

import pytest

from demo import synthetic_media
from tests.support import hls_ladders


@pytest.fixture(scope="session")
def hls_clip(tmp_path_factory):
    """A 2 s 640x360 H.264 + AAC clip and its ladder (360p, 240p; 1 s segments)."""
    folder = tmp_path_factory.mktemp("hls-clip")
    source = synthetic_media.write_video(folder / "clip.mp4", width=640, height=360)
    return source, hls_ladders.encode(source, folder / "work", segment_seconds=1)


@pytest.fixture
def video(library, hls_clip):
    return library.ready_video(hls_clip[0])


@pytest.fixture
def ladder(app, video, hls_clip):
    return hls_ladders.store(app, video["id"], hls_clip[1])


@pytest.fixture
def token(library, video, ladder, viewer):
    return library.playback_token(video["id"], viewer)
