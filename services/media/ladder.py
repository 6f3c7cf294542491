"""The HLS ladder of a video, encoded in the sandbox child in one decode pass.

The source is decoded once; each picture is scaled (AREA) to every rung and
encoded by that rung's libx264 (in the rung's own thread,
services.media.ladder_outputs) into its own FFmpeg ``hls`` muxer, which cuts
MPEG-TS segments into ``workdir/hls/<rung>/``. The sound is encoded once to
AAC and the same packets are muxed into every rung. Every rung is retimed to
the source's constant frame rate (frame n at n / rate, as
services.media.renditions.transcode does) with an IDR frame every
``segment_frames`` frames, so the segments line up across rungs.

The answer is a JSON-able manifest naming files in ``workdir/hls``, which
the parent resolves with services.media.ladder_segments.segment_path, then
encrypts and stores. The child never sees a key and touches no database.
Audio-only sources get no ladder (None).
"""

import os
from fractions import Fraction
from itertools import chain
from pathlib import Path

import av

from services.media import ladder_plan as plans
from services.media import ladder_segments as segments
from services.media.ladder_outputs import Outputs
from services.media.ladder_upright import Upright
from services.media.limits import DEFAULT_LIMITS, MediaLimits
from services.media.opening import open_media

# Frame threads each hold decoded pictures under the child's RLIMIT_AS; FFmpeg's own
# choice grows with the host's cores.
DECODER_THREADS = 2
CHECK_EVERY = 50  # frames between parent checks and progress reports
# Sound decoded before the first picture is held until the rungs are planned: a few
# frames in real files, so a stream that holds back its pictures longer is refused.
MAX_FRAMES_BEFORE_PICTURE = 2000


class ParentGone(Exception):
    """The process that asked for the ladder died: nobody will read it."""


def run_request(arguments, report=None):
    """The sandbox's "ladder" operation: ``arguments`` as the parent sent them; ``report``
    is the sandbox child's ``report(stage, done)`` (a progress line to the parent)."""
    return encode_ladder(
        Path(arguments["source"]),
        Path(arguments["workdir"]),
        limits=MediaLimits(**arguments["limits"]) if "limits" in arguments else DEFAULT_LIMITS,
        settings=plans.LadderSettings.from_dict(arguments.get("settings")),
        progress=_reporting_to(report),
        parent_pid=arguments.get("parent_pid"),
        expected_frames=arguments.get("expected_frames"),
    )


def _reporting_to(report):
    """The encoder's progress(done, expected) as the sandbox's report("hls", fraction)."""
    if report is None:
        return None
    return lambda done, expected: report("hls", min(1.0, done / max(expected, 1)))


def encode_ladder(
    source,
    workdir,
    limits=DEFAULT_LIMITS,
    settings=plans.DEFAULT_SETTINGS,
    progress=None,
    parent_pid=None,
    expected_frames=None,
):
    """Encode ``source``'s ladder into ``workdir/hls``; its manifest, or None without video.

    ``progress(done, expected)`` is called every CHECK_EVERY frames; so is a
    check that this process's parent is still ``parent_pid`` (the parent at
    the start by default): ParentGone otherwise."""
    with open_media(source) as container:
        video, audio = _main_streams(container)
        if video is None:
            return None
        video.thread_type = "AUTO"
        video.codec_context.thread_count = DECODER_THREADS
        frames = container.decode(*[s for s in (video, audio) if s is not None])
        first, head = _opening(frames)
        limits.check_picture(first.width, first.height)
        upright = Upright(first.rotation)  # the rungs are planned on the picture as shown
        rate = plans.frame_rate_of(video)
        gop = plans.segment_frames(rate, settings)
        rungs = plans.plan_rungs(*upright.size(first.width, first.height), settings)
        watch = _Watch(progress, parent_pid, expected_frames or _expected(video, container, rate))
        with Outputs(Path(workdir) / segments.LADDER_FOLDER, rungs, rate, gop, settings) as outputs:
            if audio is not None:
                outputs.add_audio(settings.audio_bit_rate)
            outputs.start()
            total = _encode(chain(head, frames), outputs, upright, limits, watch)
    return _manifest(outputs.outputs, total, rate, gop, has_audio=audio is not None)


def _opening(frames):
    """The first picture, and every frame decoded up to and including it."""
    head = []
    for frame in frames:
        head.append(frame)
        if isinstance(frame, av.VideoFrame):
            return frame, head
        if len(head) > MAX_FRAMES_BEFORE_PICTURE:
            break
    raise segments.LadderMismatch("the video stream has no picture")


def _main_streams(container):
    """The video (not cover art) and the audio stream the ladder is made from."""
    attached = av.stream.Disposition.attached_pic
    video = next((s for s in container.streams.video if not s.disposition & attached), None)
    return video, next(iter(container.streams.audio), None)


def _expected(video, container, rate):
    """The frame count to expect, for progress only: the header's, or duration x rate."""
    if video.frames:
        return video.frames
    seconds = container.duration / av.time_base if container.duration else 0
    return max(1, round(seconds * rate))


class _Watch:
    """Every CHECK_EVERY frames: is the parent alive, and how far along are we."""

    def __init__(self, progress, parent_pid, expected):
        self.progress, self.expected = progress, expected
        self.parent = parent_pid or os.getppid()

    def frame_done(self, done):
        if done % CHECK_EVERY:
            return
        if os.getppid() != self.parent:
            # Reparented: the worker was killed and would never read this ladder.
            raise ParentGone("the process that asked for the ladder is gone")
        if self.progress is not None:
            self.progress(done, max(self.expected, done))


def _encode(frames, outputs, upright, limits, watch):
    """Feed every rung from one decoding; the number of pictures encoded."""
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=plans.AUDIO_SAMPLE_RATE)
    sample_base = Fraction(1, plans.AUDIO_SAMPLE_RATE)
    pictures = samples = 0
    for frame in frames:
        if isinstance(frame, av.VideoFrame):
            limits.check_picture(frame.width, frame.height)  # a stream may change size
            outputs.encode_picture(upright(frame), pictures)
            pictures += 1
            if pictures % CHECK_EVERY == 0:
                # More pictures than the probe's trusted duration allows: a lying stream.
                limits.check_seconds(float(pictures * outputs.time_base), "its pictures run for")
            watch.frame_done(pictures)
            continue
        frame.pts = None
        for resampled in resampler.resample(frame):
            resampled.pts, resampled.time_base = samples, sample_base
            samples += resampled.samples
            outputs.encode_sound(resampled)
    outputs.flush()
    return pictures


def _manifest(outputs, total, rate, gop, has_audio):
    return {
        "frames": total,
        "frame_rate": f"{rate.numerator}/{rate.denominator}",
        "segment_frames": gop,
        "duration": float(total / Fraction(rate)),
        "has_audio": has_audio,
        "renditions": [_rendition(output, total, rate, gop, has_audio) for output in outputs],
    }


def _rendition(output, total, rate, gop, has_audio):
    rung = output.rung
    if output.avc is None:
        raise segments.LadderMismatch(f"no H.264 parameter set in rung {rung.name}")
    return {
        "name": rung.name,
        "width": rung.width,
        "height": rung.height,
        "codecs": segments.codecs(output.avc, has_audio),
        "frame_rate": round(float(rate), 3),
        "segments": segments.rung_segments(output.folder, total, gop, rate),
    }
