"""The HLS ladder encoder (services.media.ladder), on small real clips.

What players rely on: every rung has its keyframes at the same instants, each
segment starts with one and decodes on its own, the stated durations are the
frames' own, every rung holds every source frame, and CODECS says what
ffprobe sees. The clips are small (at most 640x360, a few seconds) to keep
the encoder's CPU low. The rung plan at every size: test_hls_ladder_plan.py; the encoder
in its sandbox child: test_hls_ladder_sandbox.py.
"""

import json
import shutil
import subprocess
import threading
from fractions import Fraction

import av
import numpy as np
import pytest

from demo import synthetic_media
from services.media import ladder, ladder_segments
from services.media.ladder_plan import LadderSettings, plan_rungs
from services.media.limits import MediaLimits, OutOfBounds
from services.media.opening import NotAllowedContainer
from tests.support import hostile_media as hostile
from tests.support.tools import require_tool

NTSC = Fraction(24000, 1001)  # a rate whose frames do not fall on whole milliseconds


def files(workdir, rung):
    """The paths of the rung's segments, as the parent finds them."""
    return [ladder_segments.segment_path(workdir, s["file"]) for s in rung["segments"]]


def keyframe_times(workdir, rung):
    """Seconds of every video keyframe of the rung's segments, read with PyAV."""
    times = []
    for path in files(workdir, rung):
        with av.open(str(path)) as container:
            for packet in container.demux(container.streams.video[0]):
                if packet.is_keyframe and packet.pts is not None:
                    times.append(packet.pts * packet.time_base)
    return times


def first_video_packet_is_key(path):
    with av.open(str(path)) as container:
        packet = next(p for p in container.demux(container.streams.video[0]) if p.size)
        return packet.is_keyframe


def frames_decoded(path, kind="video"):
    with av.open(str(path)) as container:
        streams = getattr(container.streams, kind)
        return sum(1 for _ in container.decode(streams[0]))


def ffprobe_streams(path):
    found = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        text=True,
    )
    return json.loads(found.stdout)["streams"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """640x360 at 23.976 frames a second, 8 s, with sound: two rungs, two segments each."""
    folder = tmp_path_factory.mktemp("ladder")
    source = synthetic_media.write_video(
        folder / "clip.mp4", seconds=8.0, fps=NTSC, width=640, height=360
    )
    reports, work = [], folder / "work"
    manifest = ladder.encode_ladder(
        source, work, progress=lambda done, expected: reports.append((done, expected))
    )
    return {"source": source, "manifest": manifest, "reports": reports, "work": work}


class TestLadder:
    def test_the_rungs_are_the_planned_ones(self, clip):
        rungs = clip["manifest"]["renditions"]
        assert [(r["name"], r["width"], r["height"]) for r in rungs] == [
            (rung.name, rung.width, rung.height) for rung in plan_rungs(640, 360)
        ]

    def test_keyframes_fall_at_the_same_instants_in_every_rung(self, clip):
        manifest = clip["manifest"]
        times = [keyframe_times(clip["work"], rung) for rung in manifest["renditions"]]
        assert times[0] == times[1]
        gop_seconds = Fraction(manifest["segment_frames"]) / NTSC
        assert len(times[0]) == len(manifest["renditions"][0]["segments"]) == 2
        assert abs(float(times[0][1] - times[0][0] - gop_seconds)) < 1 / 90000

    def test_every_segment_starts_with_a_keyframe(self, clip):
        for rung in clip["manifest"]["renditions"]:
            assert all(first_video_packet_is_key(path) for path in files(clip["work"], rung))

    def test_durations_are_the_frames_own_and_add_up(self, clip):
        manifest = clip["manifest"]
        source_frames = frames_decoded(clip["source"])
        assert manifest["frames"] == source_frames
        for rung in manifest["renditions"]:
            frames = [s["frames"] for s in rung["segments"]]
            assert frames == [144, source_frames - 144]
            for segment in rung["segments"]:
                assert segment["duration"] == pytest.approx(float(segment["frames"] / NTSC))
            total = sum(s["duration"] for s in rung["segments"])
            assert total == pytest.approx(float(source_frames / NTSC))

    def test_each_segment_decodes_alone_to_its_frames(self, clip):
        for rung in clip["manifest"]["renditions"]:
            decoded = [frames_decoded(path) for path in files(clip["work"], rung)]
            assert decoded == [s["frames"] for s in rung["segments"]]

    def test_ffprobe_reads_every_source_frame_and_the_stated_codecs(self, clip):
        require_tool(shutil.which("ffprobe"), "ffprobe")
        source_frames = frames_decoded(clip["source"])
        profiles = {"High": 0x64, "Main": 0x4D, "Constrained Baseline": 0x42, "Baseline": 0x42}
        for rung in clip["manifest"]["renditions"]:
            playlist = files(clip["work"], rung)[0].parent / "ffmpeg.m3u8"
            streams = {s["codec_type"]: s for s in ffprobe_streams(playlist)}
            video, audio = streams["video"], streams["audio"]
            assert int(video["nb_read_frames"]) == source_frames
            assert (video["width"], video["height"]) == (rung["width"], rung["height"])
            codec = f"avc1.{profiles[video['profile']]:02x}"
            assert rung["codecs"].split(",")[0][:7] == codec
            assert int(rung["codecs"].split(",")[0][9:], 16) == video["level"]
            assert rung["codecs"].endswith(",mp4a.40.2")
            # The shared AAC stream is whole in every rung (not a template of an unopened one).
            assert (audio["codec_name"], audio["sample_rate"], audio["channels"]) == (
                "aac",
                "48000",
                2,
            )

    def test_the_sound_is_in_every_rung(self, clip):
        lengths = set()
        for rung in clip["manifest"]["renditions"]:
            samples = 0
            for path in files(clip["work"], rung):
                with av.open(str(path)) as container:
                    samples += sum(f.samples for f in container.decode(container.streams.audio[0]))
            lengths.add(samples)
        assert len(lengths) == 1
        assert lengths.pop() / 48000 == pytest.approx(8.0, abs=0.1)

    def test_progress_rises_to_the_frame_count(self, clip):
        reports = clip["reports"]
        done = [report[0] for report in reports]
        assert done == sorted(done) and len(done) == clip["manifest"]["frames"] // 50
        assert all(d <= expected for d, expected in reports)

    def test_the_parent_reads_no_file_outside_the_ladder(self, clip, tmp_path):
        """The child read hostile bytes: a name it answers must not reach other files."""
        work = clip["work"]
        secret = tmp_path / "secret"
        secret.write_text("not a segment")
        (work / "hls" / "link.ts").symlink_to(secret)
        for name in ("../../secret", str(secret), "link.ts", "360p", "360p/missing.ts"):
            with pytest.raises(ladder_segments.LadderMismatch):
                ladder_segments.segment_path(work, name)
        (work / "hls" / "link.ts").unlink()

    def test_a_muxer_that_cut_elsewhere_fails_the_check(self, clip):
        rung = clip["manifest"]["renditions"][0]
        folder = files(clip["work"], rung)[0].parent
        frames = clip["manifest"]["frames"]
        with pytest.raises(ladder_segments.LadderMismatch):
            ladder_segments.rung_segments(folder, frames, 143, NTSC)
        with pytest.raises(ladder_segments.LadderMismatch):
            ladder_segments.rung_segments(folder, frames, 100, NTSC)


class TestOtherSources:
    def test_a_silent_source_gets_video_only_rungs(self, tmp_path):
        source = synthetic_media.write_video(
            tmp_path / "silent.mp4", seconds=3.0, fps=24, width=320, height=240, audio_codec=None
        )
        manifest = ladder.encode_ladder(
            source, tmp_path / "work", settings=LadderSettings(segment_seconds=1)
        )
        (rung,) = manifest["renditions"]
        assert rung["name"] == "240p" and not manifest["has_audio"]
        assert "mp4a" not in rung["codecs"] and rung["codecs"].startswith("avc1.")
        assert [s["frames"] for s in rung["segments"]] == [24, 24, 24]
        with av.open(str(files(tmp_path / "work", rung)[0])) as container:
            assert not container.streams.audio

    def test_a_rung_that_fails_fails_the_ladder_and_stops_every_rung(self, tmp_path):
        """Each rung encodes in its own thread: its error must reach the decoding loop
        (which would otherwise block on the dead rung's full queue) and end the others."""
        source = synthetic_media.write_video(
            tmp_path / "six.mp4", seconds=6.0, fps=24, width=480, height=360
        )
        work = tmp_path / "work"

        def remove_the_small_rung(done, expected):
            # Its muxer can no longer open its next segment: a real FFmpeg error.
            shutil.rmtree(work / ladder_segments.LADDER_FOLDER / "240p", ignore_errors=True)

        settings = LadderSettings(segment_seconds=2)
        with pytest.raises(OSError):
            ladder.encode_ladder(source, work, settings=settings, progress=remove_the_small_rung)
        assert not [t for t in threading.enumerate() if t.name.startswith("rung-")]

    def test_a_tiny_portrait_source_gets_one_rung_at_its_size(self, tmp_path):
        source = synthetic_media.write_video(
            tmp_path / "tiny.mp4", seconds=1.0, fps=24, width=144, height=256
        )
        manifest = ladder.encode_ladder(source, tmp_path / "work")
        (rung,) = manifest["renditions"]
        assert (rung["name"], rung["width"], rung["height"]) == ("144p", 144, 256)
        assert [s["frames"] for s in rung["segments"]] == [24]

    def test_an_audio_only_source_gets_no_ladder(self, tmp_path):
        source = synthetic_media.write_audio(tmp_path / "song.mp3")
        assert ladder.encode_ladder(source, tmp_path / "work") is None
        assert not (tmp_path / "work").exists()

    def test_a_video_stream_without_a_picture_is_refused(self, tmp_path):
        path = tmp_path / "no-picture.mkv"
        with av.open(str(path), "w") as output:
            video = output.add_stream("libx264", rate=24)
            video.width, video.height, video.pix_fmt = 160, 90, "yuv420p"
            sound = output.add_stream("aac", rate=48000)
            sound.layout = "mono"
            samples = synthetic_media.tone(1.0, rate=48000)
            for start in range(0, len(samples) - 1024, 1024):
                chunk = samples[start : start + 1024].reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                frame.sample_rate, frame.pts = 48000, start
                output.mux(sound.encode(frame))
            output.mux(sound.encode())
        with pytest.raises(ladder_segments.LadderMismatch, match="no picture"):
            ladder.encode_ladder(path, tmp_path / "work")

    def test_a_stream_longer_than_the_limit_is_refused(self, tmp_path):
        source = synthetic_media.write_video(
            tmp_path / "long.mp4", seconds=3.0, fps=24, width=160, height=90, audio_codec=None
        )
        with pytest.raises(OutOfBounds):
            ladder.encode_ladder(source, tmp_path / "work", limits=MediaLimits(max_seconds=2))

    def test_the_source_is_opened_locked_to_itself(self, tmp_path):
        canary = synthetic_media.write_video(tmp_path / "canary.ts", container="mpegts")
        script = tmp_path / "upload.mp4"
        script.write_bytes(hostile.ffconcat_naming(canary.name))
        watch = hostile.OpenWatch(canary)
        try:
            with pytest.raises(NotAllowedContainer):
                ladder.encode_ladder(script, tmp_path / "work")
            assert not watch.opened()
        finally:
            watch.close()


def turned_copy(source, target, rotation):
    """``source``'s video with a display matrix that says "turn ``rotation`` degrees
    counter-clockwise to show", as phones write portrait videos (packets copied)."""
    with av.open(str(source)) as original, av.open(str(target), "w") as copy:
        stream = copy.add_stream_from_template(original.streams.video[0])
        stream.set_display_rotation(rotation)
        for packet in original.demux(original.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                copy.mux(packet)
    return target


def first_luma(path):
    with av.open(str(path)) as container:
        frame = next(container.decode(container.streams.video[0]))
        return frame.reformat(format="gray").to_ndarray().astype(int)


@pytest.fixture(scope="module")
def landscape(tmp_path_factory):
    folder = tmp_path_factory.mktemp("turned")
    return synthetic_media.write_video(
        folder / "stored.mp4", seconds=0.5, fps=24, width=320, height=180, audio_codec=None
    )


class TestTurnedSources:
    """MPEG-TS has no display matrix: the ladder turns the pictures themselves."""

    @pytest.mark.parametrize(("rotation", "turns"), [(90, 1), (-90, 3), (180, 2)])
    def test_a_rung_shows_the_picture_as_the_player_would(
        self, landscape, tmp_path, rotation, turns
    ):
        source = turned_copy(landscape, tmp_path / "phone.mp4", rotation)
        (rung,) = ladder.encode_ladder(source, tmp_path / "work")["renditions"]
        shown = np.rot90(first_luma(landscape), turns)  # numpy turns counter-clockwise too
        assert (rung["width"], rung["height"]) == (shown.shape[1], shown.shape[0])
        encoded = first_luma(files(tmp_path / "work", rung)[0])
        assert np.abs(encoded - shown).mean() < 8  # x264's loss, not another orientation
        assert np.abs(encoded - np.rot90(shown, 2)).mean() > 30
