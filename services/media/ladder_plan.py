"""What the HLS ladder of a video is made of: its rungs and their encoder settings.

Pure decisions from the source's size and frame rate, no FFmpeg call; the
encoder (services.media.ladder) follows them.

- Rungs are named by their *short* side, so a portrait 1080x1920 phone video
  gets a "1080p" rung like a landscape one, and no rung is bigger than the
  source: upscaling costs bits and shows nothing new.
- Every rung has the same frame rate and the same keyframe positions (one
  keyframe every ``segment_frames``), so a player can switch rungs at any
  segment border.
- CRF keeps quality even; maxrate/bufsize caps the peak so that the
  playlist's BANDWIDTH stays honest on hard scenes.
"""

from dataclasses import asdict, dataclass, fields
from fractions import Fraction

RUNG_SIZES = (1080, 720, 480, 360, 240)  # short side, in pixels
# kbit/s caps per rung (bufsize is twice the cap), after the usual authoring ladders.
MAXRATE_KBPS = {1080: 5000, 720: 2800, 480: 1400, 360: 800, 240: 400}
HIGH_RUNG = 1080  # rungs this big or bigger take the faster x264 preset (it dominates the CPU)
AUDIO_SAMPLE_RATE = 48000
DEFAULT_FRAME_RATE = Fraction(30)  # when a stream states none at all

# Defaults of the HLS_* settings (the parent passes the configured values).
HLS_MAX_RENDITIONS = 3
HLS_SEGMENT_SECONDS = 6
HLS_X264_PRESET = "veryfast"
# ultrafast at 1080: with the rungs in parallel threads, superfast still took 1.14x the
# duration to ready and +366 MB (bench/hls.py, 60 s 1080p30, 2 cores, 2026-11-29);
# ultrafast with 4 threads: 0.98-1.06x (three runs) and +289-291 MB. Its cost, on the
# first 20 s: the 1080p rung 0.9181 SSIM against 0.9241 (-0.33 dB) at the same bit rate
# (it sits at its maxrate cap); the rungs below keep veryfast and their quality.
HLS_X264_PRESET_HIGH = "ultrafast"
HLS_CRF = 23
HLS_AUDIO_BIT_RATE = 128000
# x264 threads per rung. Left to x264, each encoder starts 1.5 threads a core, and each
# thread's stack and frames count against the child's RLIMIT_AS: on a 32-core host three
# rungs would reserve gigabytes. Four each, with ultrafast at 1080: 0.98x the duration and
# +289 MB against 1.03x and +285 MB with two (one run each, same source), within the
# child's 1536 MB (HLS_JOB_MEMORY_MB).
HLS_X264_THREADS = 4


@dataclass(frozen=True)
class LadderSettings:
    max_renditions: int = HLS_MAX_RENDITIONS
    segment_seconds: float = HLS_SEGMENT_SECONDS
    preset: str = HLS_X264_PRESET
    preset_high: str = HLS_X264_PRESET_HIGH
    crf: int = HLS_CRF
    audio_bit_rate: int = HLS_AUDIO_BIT_RATE
    x264_threads: int = HLS_X264_THREADS

    @classmethod
    def from_dict(cls, values):
        """Settings from a JSON request; names it does not give keep their defaults."""
        known = {field.name for field in fields(cls)}
        return cls(**{name: value for name, value in (values or {}).items() if name in known})

    def as_dict(self):
        return asdict(self)


DEFAULT_SETTINGS = LadderSettings()


@dataclass(frozen=True)
class Rung:
    name: str  # "720p": also the rung's folder and its URI segment
    width: int
    height: int
    maxrate_kbps: int
    preset: str


def even(value):
    """The even integer nearest ``value`` (yuv420p needs even sizes), at least 2."""
    return max(2, 2 * round(value / 2))


def plan_rungs(width, height, settings=DEFAULT_SETTINGS):
    """The rungs for a ``width`` x ``height`` source, biggest first.

    The standard sizes at or below the source's short side, the biggest
    ``settings.max_renditions`` of them; a source smaller than the smallest
    gets one rung at its own size."""
    if width <= 0 or height <= 0 or settings.max_renditions < 1:
        raise ValueError(f"no ladder for a {width}x{height} picture")
    short, long_side = min(width, height), max(width, height)
    sizes = [size for size in RUNG_SIZES if size <= short][: settings.max_renditions]
    if not sizes:
        small = short // 2 * 2 or 2
        return [_rung(small, max(2, long_side // 2 * 2), width >= height, small, settings)]
    rungs = []
    for size in sizes:
        scaled_long = even(long_side * size / short)
        rungs.append(_rung(size, scaled_long, width >= height, size, settings))
    return rungs


def _rung(short, long_side, landscape, cap_size, settings):
    width, height = (long_side, short) if landscape else (short, long_side)
    cap = MAXRATE_KBPS.get(cap_size, MAXRATE_KBPS[RUNG_SIZES[-1]])
    preset = settings.preset_high if cap_size >= HIGH_RUNG else settings.preset
    return Rung(f"{short}p", width, height, cap, preset)


def frame_rate_of(stream):
    """The stream's constant frame rate as a Fraction: every rung is retimed to it."""
    rate = stream.average_rate or stream.guessed_rate
    return Fraction(rate) if rate else DEFAULT_FRAME_RATE


def segment_frames(rate, settings=DEFAULT_SETTINGS):
    """Frames between keyframes, the same in every rung: each segment holds this many."""
    return max(1, round(Fraction(rate) * Fraction(settings.segment_seconds)))


def x264_options(rung, gop, settings=DEFAULT_SETTINGS):
    """libx264 options for ``rung`` with a keyframe exactly every ``gop`` frames.

    PyAV 18 ignores ``g``/``keyint_min``/``sc_threshold`` given as options
    (keyframes then fall wherever x264 likes), so the GOP goes through
    ``x264-params``; ``forced-idr`` makes the frames the encoder loop marks
    as I into IDR frames, where a segment may start."""
    return {
        "preset": rung.preset,
        "crf": str(settings.crf),
        "maxrate": f"{rung.maxrate_kbps}k",
        "bufsize": f"{2 * rung.maxrate_kbps}k",
        "profile": "high",
        "forced-idr": "1",
        "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0",
    }


def hls_muxer_options(folder, rate, gop):
    """Options of FFmpeg's ``hls`` muxer writing one rung's segments into ``folder``.

    The muxer cuts at the first keyframe after ``hls_time`` has passed; half
    a frame short of the GOP so that rounding can never skip a keyframe and
    make a double-length segment."""
    if "%" in str(folder):
        raise ValueError("the ladder's folder may not contain '%'")  # the muxer's pattern char
    return {
        "hls_time": f"{(gop - 0.5) / float(rate):.6f}",
        "hls_list_size": "0",
        "hls_playlist_type": "vod",
        "hls_segment_type": "mpegts",
        "hls_segment_filename": str(folder / "seg_%05d.ts"),
        "hls_flags": "independent_segments",
    }
