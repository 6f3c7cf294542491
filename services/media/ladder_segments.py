"""Facts about an encoded rung: its CODECS string and its segments' durations.

Durations are computed, not trusted: every segment holds ``gop`` frames
(the last one the rest), so its duration is frames / frame rate exactly. The
``hls`` muxer's own playlist must agree (same segments, same durations to
the millisecond); if it does not, the keyframes were not where the encoder
loop put them, the rungs would not be aligned, and the ladder is refused.
"""

from fractions import Fraction
from pathlib import Path

AAC_LC = "mp4a.40.2"
SPS_NAL_TYPE = 7
START_CODE = b"\x00\x00\x01"
DURATION_TOLERANCE = 0.001  # seconds: the muxer writes EXTINF with 6 decimals
MUXER_PLAYLIST = "ffmpeg.m3u8"
LADDER_FOLDER = "hls"  # in the workdir: one folder per rung


class LadderMismatch(Exception):
    """The muxer cut the segments elsewhere than every keyframe."""


def avc_codec(annexb):
    """``avc1.PPCCLL`` (RFC 6381) from the first SPS in an Annex B H.264 packet:
    profile_idc, the constraint flags and level_idc, as players match them."""
    at = annexb.find(START_CODE)
    while at != -1:
        header = at + len(START_CODE)
        if header + 3 < len(annexb) and annexb[header] & 0x1F == SPS_NAL_TYPE:
            profile, constraints, level = annexb[header + 1 : header + 4]
            return f"avc1.{profile:02x}{constraints:02x}{level:02x}"
        at = annexb.find(START_CODE, header)
    return None


def codecs(video_codec, has_audio):
    """The CODECS attribute's list: H.264, and AAC-LC when there is sound."""
    return ",".join([video_codec, AAC_LC] if has_audio else [video_codec])


def segment_plan(total_frames, gop, rate):
    """[(frames, seconds)] of each segment of a rung of ``total_frames`` frames."""
    rate = Fraction(rate)
    plan = []
    for first in range(0, total_frames, gop):
        frames = min(gop, total_frames - first)
        plan.append((frames, float(frames / rate)))
    return plan


def muxer_playlist(folder):
    """[(file name, EXTINF seconds)] of the playlist the ``hls`` muxer wrote."""
    entries, duration = [], None
    for line in (Path(folder) / MUXER_PLAYLIST).read_text().splitlines():
        line = line.strip()
        if line.startswith("#EXTINF:"):
            duration = float(line[len("#EXTINF:") :].split(",")[0])
        elif line and not line.startswith("#"):
            entries.append((line, duration))
            duration = None
    return entries


def segment_path(workdir, name):
    """The file of a manifest's segment ``name`` ("720p/seg_00000.ts"), inside
    ``workdir/hls`` and nowhere else: the parent reads, encrypts and serves what
    it names, and the child that named it was reading hostile bytes."""
    root = (Path(workdir) / LADDER_FOLDER).resolve()
    path = (root / name).resolve()  # symbolic links followed, then checked
    if not path.is_relative_to(root) or not path.is_file():
        raise LadderMismatch("a segment named outside the ladder's folder")
    return path


def rung_segments(folder, total_frames, gop, rate):
    """The rung's segments [{file, frames, duration, size}], ``file`` relative to the
    ladder's folder, checked against the muxer's playlist; LadderMismatch when they
    disagree."""
    folder = Path(folder)
    planned = segment_plan(total_frames, gop, rate)
    written = muxer_playlist(folder)
    if len(written) != len(planned):
        raise LadderMismatch(
            f"the muxer made {len(written)} segments where {len(planned)} were expected"
        )
    segments = []
    for index, ((frames, seconds), (name, extinf)) in enumerate(zip(planned, written, strict=True)):
        if extinf is None or abs(extinf - seconds) > DURATION_TOLERANCE:
            raise LadderMismatch(f"segment {index} lasts {extinf} s, not {seconds:.6f} s")
        path = folder / Path(name).name  # the muxer names files beside its playlist
        segments.append(
            {
                "file": f"{folder.name}/{path.name}",
                "frames": frames,
                "duration": seconds,
                "size": path.stat().st_size,
            }
        )
    return segments
