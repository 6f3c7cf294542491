"""The media pipeline's locks, below the API: every FFmpeg entry point opens only its
own input, thumbnails hold one small frame at a time, and the sandbox child is
stopped and reaped when it overruns."""

import gc
import os
import weakref
from pathlib import Path

import numpy as np
import pytest

from demo import synthetic_media
from services.media import renditions, sandbox, thumbnails
from services.media.limits import MediaLimits
from services.media.probe import probe
from tests.support import hostile_media as hostile


@pytest.fixture
def script_beside_canary(tmp_path):
    canary = synthetic_media.write_video(tmp_path / "canary.ts", container="mpegts")
    script = tmp_path / "upload.mp4"
    script.write_bytes(hostile.ffconcat_naming(canary.name))
    watch = hostile.OpenWatch(canary)
    yield script, watch
    watch.close()


ENTRY_POINTS = {
    "probe": lambda source, tmp_path: probe(source),
    "remux": lambda source, tmp_path: renditions.remux_faststart(source, tmp_path / "out.mp4"),
    "transcode": lambda source, tmp_path: renditions.transcode(
        source, tmp_path / "out.mp4", "video"
    ),
    "thumbnail": lambda source, tmp_path: thumbnails.thumbnail_jpeg(source),
}


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_no_entry_point_follows_a_script_to_another_file(
    script_beside_canary, tmp_path, entry_point
):
    script, watch = script_beside_canary
    with pytest.raises(Exception, match="container we accept"):
        ENTRY_POINTS[entry_point](script, tmp_path)
    assert not watch.opened()


class TestThumbnailMemory:
    def test_candidates_are_thumbnail_sized_whatever_the_video(self, tmp_path):
        clip = synthetic_media.write_video(tmp_path / "wide.mp4", width=1280, height=720)
        sizes = {frame.shape[:2] for frame in thumbnails.candidate_frames(clip)}
        assert sizes == {(360, 640)}

    def test_the_scorer_keeps_only_the_best_so_far(self):
        class Frame(np.ndarray):
            """An ndarray that can be watched with a weak reference."""

        alive = []

        def frames():
            for index in range(8):
                gc.collect()
                # The best so far and the one last scored (until the loop moves on), never all.
                assert sum(ref() is not None for ref in alive) <= 2
                frame = synthetic_media.picture(index, 160, 120).view(Frame)
                alive.append(weakref.ref(frame))
                yield frame
                del frame

        assert thumbnails.best_frame(frames()) is not None


def children_running(name):
    """This process's children (zombies too) whose command line mentions ``name``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and (name.encode() in command or not command):
            found.append(int(entry.name))
    return found


class TestSandbox:
    def test_a_child_that_never_finishes_is_killed_and_reaped(self, tmp_path):
        never_written = tmp_path / "fifo.mp4"
        os.mkfifo(never_written)  # opening it for reading waits for a writer forever
        request = {"path": str(never_written), "limits": MediaLimits().__dict__}
        with pytest.raises(sandbox.SandboxFailed, match="longer than 1 s"):
            sandbox.run("probe", request, sandbox.Budget(memory_mb=512, seconds=1))
        assert children_running("services.media.sandbox") == []

    def test_the_child_inherits_no_secrets(self, monkeypatch):
        monkeypatch.setenv("JWT_SECRET_KEY", "a-secret-the-child-must-not-see")
        monkeypatch.setenv("MONGODB_URI", "mongodb://user:password@db/video_app")
        environment = sandbox._child_environment()
        assert "JWT_SECRET_KEY" not in environment and "MONGODB_URI" not in environment
        assert environment["MALLOC_ARENA_MAX"] == "2"

    def test_the_answer_of_a_child_is_the_media_info(self, tmp_path):
        clip = synthetic_media.write_video(tmp_path / "clip.mp4")
        config = {
            "MAX_MEDIA_DURATION_HOURS": 12,
            "MAX_VIDEO_DIMENSION": 4096,
            "MAX_VIDEO_PIXELS": 4096 * 2160,
            "MAX_FRAME_RATE": 240,
            "MEDIA_JOB_MEMORY_MB": 1024,
            "MEDIA_PROBE_SECONDS": 60,
        }
        assert sandbox.probe_upload(clip, config) == probe(clip)
