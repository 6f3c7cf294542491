"""Stage and progress while a video is processed: the child reports, the parent writes, the
status route shows (docs/videos.md#processing).

The transcodes are real (PyAV in the sandbox child); a spy records every progress write
the jobs make, passing each through to the database.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bson import ObjectId

from demo import synthetic_media
from models import video as videos
from models.db import get_db
from services.media import progress, sandbox
from services.media.conversation import SandboxCancelled
from services.media.progress import Progress
from tests.support.uploads import eventually, upload

ROOT = Path(__file__).resolve().parent.parent
WAIT = 120  # seconds: only a broken job waits this long; no assertion is timed
MEDIA_SETTINGS = {  # what the sandbox reads of an app's config
    "MEDIA_JOB_MEMORY_MB": 1024,
    "MEDIA_JOB_SECONDS": 600,
    "MAX_MEDIA_DURATION_HOURS": 12,
    "MAX_VIDEO_DIMENSION": 4096,
    "MAX_VIDEO_PIXELS": 4096 * 2160,
    "MAX_FRAME_RATE": 240,
}


@pytest.fixture(scope="module")
def long_mp4v(tmp_path_factory):
    """MPEG-4 Part 2 video (transcoded, never stored as is), long enough for many reports."""
    path = tmp_path_factory.mktemp("progress") / "long-mp4v.mp4"
    return synthetic_media.write_video(path, seconds=12, fps=30, video_codec="mpeg4")


@pytest.fixture
def creator(accounts):
    return accounts.bearer(accounts.user_with_token("creator"))


class Written:
    """What Progress hands to its lease, in order."""

    def __init__(self):
        self.reports = []

    def report(self, stage, value):
        self.reports.append((stage, value))


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class TestTheWriter:
    def test_each_stage_is_written_as_it_starts(self):
        lease, clock = Written(), Clock()
        report = Progress(lease, clock)
        for stage in progress.NAMES:
            report(stage)
        assert [stage for stage, _ in lease.reports] == list(progress.NAMES)

    def test_within_a_stage_at_most_once_a_second(self):
        lease, clock = Written(), Clock()
        report = Progress(lease, clock)
        report("rendition")
        for step in range(1, 100):  # a frame report every 10 ms: 1 s in all
            clock.now = step * 0.01
            report("rendition", step / 100)
        assert len(lease.reports) == 1
        clock.now = 1.0
        report("rendition", 0.5)
        assert lease.reports[-1] == ("rendition", progress.overall("rendition", 0.5))

    def test_a_move_under_a_percent_is_not_written(self):
        lease, clock = Written(), Clock()
        report = Progress(lease, clock)
        report("rendition", 0.5)
        clock.now = 5.0
        report("rendition", 0.505)
        assert len(lease.reports) == 1

    def test_the_bar_never_goes_back(self):
        lease, clock = Written(), Clock()
        report = Progress(lease, clock)
        report("rendition", 0.9)
        report("thumbnail")
        report("rendition", 0.1)  # a second pass over the media
        values = [value for _, value in lease.reports]
        assert values == sorted(values) and all(0 <= value <= 1 for value in values)

    def test_the_stages_fill_the_bar(self):
        assert progress.overall(progress.NAMES[0]) == 0
        assert progress.overall(progress.NAMES[-1], 1.0) == 1


class TestTheChild:
    def test_a_transcode_reports_its_stages_in_order_and_frames_as_it_goes(
        self, long_mp4v, tmp_path
    ):
        heard = []
        answer = sandbox.prepare_media(
            long_mp4v, tmp_path, MEDIA_SETTINGS, on_progress=lambda *report: heard.append(report)
        )
        assert answer["plan"]["action"] == "transcode"
        stages = [stage for stage, _ in heard]
        assert _in_order(stages) == ["probe", "rendition", "thumbnail"]
        during = [done for stage, done in heard if stage == "rendition"]
        assert during == sorted(during)
        assert any(0 < done < 1 for done in during), "no report while the frames were encoded"

    def test_a_cancelled_child_is_killed_and_reaped(self, long_mp4v, tmp_path):
        heard, before = [], set(_children_of(os.getpid()))  # the database server's, ...
        with pytest.raises(SandboxCancelled):
            sandbox.prepare_media(
                long_mp4v,
                tmp_path,
                MEDIA_SETTINGS,
                on_progress=lambda *report: heard.append(report),
                cancelled=lambda: any(stage == "rendition" for stage, _ in heard),
            )
        assert not (tmp_path / "thumbnail.jpg").exists()  # it never got that far
        assert set(_children_of(os.getpid())) == before  # no child left, not even a zombie

    def test_a_child_whose_parent_was_killed_stops_at_its_next_report(self, long_mp4v, tmp_path):
        """A worker killed with SIGKILL cannot kill its FFmpeg child: the child notices that its
        parent changed and exits, instead of encoding for nobody until RLIMIT_CPU."""
        parent = subprocess.Popen(
            [sys.executable, "-c", PARENT_SCRIPT, str(long_mp4v), str(tmp_path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert parent.stdout.readline().strip() == "transcoding"
            (child,) = _children_of(parent.pid)
            assert _alive(child)
        finally:
            parent.kill()
            parent.wait()
        assert eventually(lambda: not _alive(child), timeout=WAIT), "the orphan encodes on"
        assert not (tmp_path / "thumbnail.jpg").exists(), "the orphan finished the whole job"


# The parent of the orphan test: runs the job's child, says so once the transcode is under
# way, and is then killed with SIGKILL by the test.
PARENT_SCRIPT = """
import sys
from pathlib import Path
from services.media import sandbox
config = {"MEDIA_JOB_MEMORY_MB": 1024, "MEDIA_JOB_SECONDS": 600, "MAX_MEDIA_DURATION_HOURS": 12,
          "MAX_VIDEO_DIMENSION": 4096, "MAX_VIDEO_PIXELS": 4096 * 2160, "MAX_FRAME_RATE": 240}
said = []
def heard(stage, done):
    if stage == "rendition" and not said:
        said.append(print("transcoding", flush=True))
sandbox.prepare_media(Path(sys.argv[1]), Path(sys.argv[2]), config, on_progress=heard)
"""


def _in_order(stages):
    """Each stage once, in the order first heard."""
    return list(dict.fromkeys(stages))


def _children_of(pid):
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()]


def _alive(pid):
    """Running, not a zombie (a killed parent's child is reaped by whoever adopts it)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] != "Z"


class TestTheStatusRoute:
    def test_a_queued_video_is_processing_at_stage_queued(self, make_app, accounts, media):
        app = make_app(PROCESSING_WORKERS=0)
        client = app.test_client()
        creator = accounts.bearer(accounts.user_with_token("creator"))
        video_id = upload(client, creator, media["h264"]).json["video"]["id"]
        status = client.get(f"/video/{video_id}/status", headers=creator).json
        assert status == {
            "id": video_id,
            "status": "processing",
            "failure_reason": None,
            "stage": "queued",
            "progress": 0.0,
        }

    def test_stage_and_progress_move_forward_then_are_null_when_ready(
        self, app, client, creator, long_mp4v, monkeypatch
    ):
        written = []
        real = videos.report_progress

        def spy(video_id, owner, stage, value):
            written.append((stage, value))
            return real(video_id, owner, stage, value)

        monkeypatch.setattr(videos, "report_progress", spy)
        video_id = upload(client, creator, long_mp4v).json["video"]["id"]
        seen = _poll_until_done(client, creator, video_id)

        assert _in_order([stage for stage, _ in written]) == list(progress.NAMES)
        values = [value for _, value in written]
        assert values == sorted(values) and values[0] >= 0 and values[-1] <= 1
        during = [(stage, value) for status, stage, value in seen if status == "processing"]
        assert during, "the status never showed the video processing"
        assert [value for _, value in during] == sorted(value for _, value in during)
        assert {stage for stage, _ in during} <= set(progress.STATUS_STAGES)
        assert seen[-1] == ("ready", None, None)
        with app.app_context():
            video = get_db().videos.find_one({"_id": ObjectId(video_id)})
        assert video["stage"] is None and video["progress"] is None


def _poll_until_done(client, headers, video_id):
    """Every (status, stage, progress) the status route answered, until not processing."""
    seen, deadline = [], time.monotonic() + WAIT
    while time.monotonic() < deadline:
        body = client.get(f"/video/{video_id}/status", headers=headers).json
        seen.append((body["status"], body["stage"], body["progress"]))
        if body["status"] != "processing":
            return seen
        time.sleep(0.05)
    raise AssertionError(f"still processing after {WAIT} s: {json.dumps(seen[-3:])}")
