"""Make what is stored play everywhere: H.264 (yuv420p) + AAC in MP4, moov first.

- already so: stored as is;
- right codecs but ``moov`` at the end: remuxed (packets copied, no re-encode);
- anything else (mp4v, HEVC, VP9, ...): transcoded with PyAV's libx264 and AAC.
Audio: MP3 and AAC-in-M4A are kept (M4A remuxed to faststart if needed);
other audio becomes AAC in M4A. OpenCV cannot write H.264 or audio, hence PyAV.
"""

from dataclasses import dataclass
from fractions import Fraction

import av

from services.media.limits import DEFAULT_LIMITS
from services.media.opening import open_media
from services.media.probe import MediaInfo

AS_IS, REMUX, TRANSCODE = "as_is", "remux", "transcode"
FASTSTART = {"movflags": "+faststart"}
MP4_MIME, M4A_MIME, MP3_MIME = "video/mp4", "audio/mp4", "audio/mpeg"
PROGRESS_EVERY = 30  # decoded frames (video and audio) between two progress reports


@dataclass(frozen=True)
class Plan:
    action: str
    mime_type: str
    extension: str


def plan_for(info: MediaInfo) -> Plan:
    if info.kind == "audio":
        return _audio_plan(info)
    if info.plays_everywhere():
        return Plan(AS_IS if info.moov_first else REMUX, MP4_MIME, "mp4")
    return Plan(TRANSCODE, MP4_MIME, "mp4")


def _audio_plan(info):
    if info.container == "mp3" and info.audio_codec == "mp3":
        return Plan(AS_IS, MP3_MIME, "mp3")
    if info.is_mp4_family and info.audio_codec == "aac":
        return Plan(AS_IS if info.moov_first else REMUX, M4A_MIME, "m4a")
    return Plan(TRANSCODE, M4A_MIME, "m4a")


def remux_faststart(source, target, container_format="mp4"):
    """Copy every audio/video packet into a new MP4 whose moov comes first."""
    with (
        open_media(source) as src,
        av.open(str(target), "w", format=container_format, container_options=FASTSTART) as dst,
    ):
        mapping = {}
        for stream in (*src.streams.video, *src.streams.audio):
            mapping[stream.index] = dst.add_stream_from_template(stream)
        for packet in src.demux(*[src.streams[i] for i in mapping]):
            if packet.dts is None:
                continue
            packet.stream = mapping[packet.stream.index]
            dst.mux(packet)


def transcode(source, target, kind, limits=DEFAULT_LIMITS, on_progress=None):
    """Re-encode to H.264 yuv420p + AAC MP4 (video) or AAC M4A (audio), moov first.

    Every decoded picture is held to ``limits``: a stream may change size mid-way whatever
    its header said. ``on_progress(seconds written)`` is called every PROGRESS_EVERY frames."""
    container_format = "mp4" if kind == "video" else "ipod"
    with (
        open_media(source) as src,
        av.open(str(target), "w", format=container_format, container_options=FASTSTART) as dst,
    ):
        in_video = src.streams.video[0] if kind == "video" and src.streams.video else None
        in_audio = src.streams.audio[0] if src.streams.audio else None
        out_video = _h264_stream(dst, in_video) if in_video is not None else None
        out_audio = dst.add_stream("aac", rate=48000) if in_audio is not None else None
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=48000)
        if out_audio is not None:
            out_audio.layout = "stereo"
        wanted = [s for s in (in_video, in_audio) if s is not None]
        # Fresh timestamps: constant frame rate for video, a sample count for audio.
        frames_written = samples_written = 0
        for count, frame in enumerate(src.decode(*wanted), start=1):
            if on_progress is not None and count % PROGRESS_EVERY == 0:
                on_progress(_written(frames_written, out_video, samples_written))
            if isinstance(frame, av.VideoFrame):
                limits.check_picture(frame.width, frame.height)
                frame = frame.reformat(
                    format="yuv420p", width=out_video.width, height=out_video.height
                )
                frame.pts, frame.time_base = frames_written, 1 / Fraction(out_video.average_rate)
                frames_written += 1
                dst.mux(out_video.encode(frame))
                continue
            frame.pts = None
            for resampled in resampler.resample(frame):
                resampled.pts, resampled.time_base = samples_written, Fraction(1, 48000)
                samples_written += resampled.samples
                dst.mux(out_audio.encode(resampled))
        for stream in (out_video, out_audio):
            if stream is not None:
                dst.mux(stream.encode())


def _written(frames, out_video, samples):
    """Seconds of media encoded so far: the video's clock, else the audio's."""
    if out_video is not None:
        return float(frames / Fraction(out_video.average_rate))
    return samples / 48000


def _h264_stream(dst, in_video):
    rate = in_video.average_rate or in_video.guessed_rate or 30
    stream = dst.add_stream("libx264", rate=rate)
    # yuv420p needs even dimensions.
    stream.width = in_video.codec_context.width // 2 * 2
    stream.height = in_video.codec_context.height // 2 * 2
    stream.pix_fmt = "yuv420p"
    stream.options = {"preset": "veryfast", "crf": "23"}
    return stream
