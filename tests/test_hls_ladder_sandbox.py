"""The HLS ladder encoder as processing runs it: in the sandbox child, with bounded x264
threads, reporting progress as the ``hls`` stage, and stopping when its parent is gone."""

import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest

from demo import synthetic_media
from services.media import ladder, ladder_segments, sandbox
from services.media.ladder_plan import LadderSettings


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory):
    folder = tmp_path_factory.mktemp("short")
    return synthetic_media.write_video(
        folder / "short.mp4", seconds=3.0, fps=24, width=192, height=108
    )


def threads_while_encoding(source, workdir, x264_threads):
    """The most threads this process ran while the ladder encoded (Linux /proc)."""
    seen = []

    def count(done, expected):
        status = Path("/proc/self/status").read_text()
        seen.append(int(status.split("Threads:")[1].split()[0]))

    settings = LadderSettings(x264_threads=x264_threads, max_renditions=1)
    ladder.encode_ladder(source, workdir, settings=settings, progress=count)
    return max(seen)


class TestInTheSandbox:
    def test_x264_threads_are_bounded_by_the_setting(self, tmp_path):
        """Each thread reserves address space under the child's RLIMIT_AS: x264's own
        choice (1.5 a core, per rung) would not fit on a many-core host."""
        # x264 caps its threads by picture height: 360 lines leave room for four.
        source = synthetic_media.write_video(
            tmp_path / "360.mp4", seconds=2.5, fps=24, width=640, height=360, audio_codec=None
        )
        one = threads_while_encoding(source, tmp_path / "one", 1)
        four = threads_while_encoding(source, tmp_path / "four", 4)
        assert four > one

    def test_the_child_answers_with_the_manifest(self, short_clip, tmp_path):
        arguments = {"source": str(short_clip), "workdir": str(tmp_path)}
        manifest = sandbox.run("ladder", arguments, sandbox.Budget(1536, 300))
        (rung,) = manifest["renditions"]
        assert rung["name"] == "108p" and manifest["frames"] == 72
        assert all(
            ladder_segments.segment_path(tmp_path, s["file"]).is_file() for s in rung["segments"]
        )

    def test_progress_is_reported_as_the_hls_stage(self, short_clip, tmp_path):
        reports = []
        arguments = {"source": str(short_clip), "workdir": str(tmp_path)}
        ladder.run_request(arguments, lambda stage, done: reports.append((stage, done)))
        assert reports and {stage for stage, _ in reports} == {"hls"}
        assert all(0 < done <= 1 for _, done in reports)

    def test_a_child_whose_parent_changed_stops(self, short_clip, tmp_path):
        # os.getpid() is not this process's parent: the check sees a "reparented" child.
        with pytest.raises(ladder.ParentGone):
            ladder.encode_ladder(short_clip, tmp_path, parent_pid=os.getpid())

    def test_a_child_whose_parent_was_killed_stops_at_its_next_check(self, short_clip, tmp_path):
        """A worker killed with SIGKILL cannot stop its child: the child sees it is
        reparented and gives up, instead of encoding for nobody until RLIMIT_CPU."""
        request, answer = tmp_path / "request", tmp_path / "answer"
        os.mkfifo(request)
        os.mkfifo(answer)
        # sh starts the child in the background (its stdin and stdout are the fifos), says so,
        # then waits: it is the child's parent until it is killed.
        script = '"$0" -m services.media.sandbox <"$1" >"$2" 2>/dev/null & echo $!; wait'
        middle = subprocess.Popen(
            ["sh", "-c", script, sys.executable, request, answer],
            cwd=sandbox.PROJECT_ROOT,
            stdout=subprocess.PIPE,
        )
        assert int(middle.stdout.readline())  # the child is forked
        middle.stdout.close()
        arguments = {"source": str(short_clip), "workdir": str(tmp_path), "parent_pid": middle.pid}
        middle.kill()
        middle.wait()
        # The child only starts work once it has read the whole request, after its parent died.
        request.write_text(
            json.dumps(
                {
                    "operation": "ladder",
                    "arguments": arguments,
                    "memory_mb": 1536,
                    "cpu_seconds": 60,
                }
            )
        )
        with open(answer, "rb") as output:
            assert select.select([output], [], [], 120)[0], "the orphaned child went on encoding"
            reply = json.loads(output.read())  # to EOF: the child has exited
        assert reply["ok"] is False and reply["message"].startswith("ParentGone")
