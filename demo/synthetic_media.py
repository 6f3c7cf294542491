"""Real, short media made on the fly: a moving picture and a tone.

Used by seed_videos.py for the demo catalogue and by the tests for every
format the pipeline must handle. PyAV encodes (its wheel carries libx264,
libvpx, AAC and MP3 encoders); ``opencv_mp4v`` uses OpenCV's own writer, the
format phones' OpenCV apps and many scripts produce.
"""

from fractions import Fraction

import av
import cv2
import numpy as np

SAMPLE_RATE = 44100


def picture(index, width, height, hue=0):
    """A frame with a gradient background and a square that moves across it."""
    y, x = np.mgrid[0:height, 0:width]
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[..., 0] = (x * 255 // max(width - 1, 1) + hue) % 256
    frame[..., 1] = y * 255 // max(height - 1, 1)
    frame[..., 2] = (index * 3 + hue) % 256
    size = max(height // 4, 8)
    left = (index * 4) % max(width - size, 1)
    top = (height - size) // 2
    frame[top : top + size, left : left + size] = (255, 255, 255)
    cv2.putText(frame, str(index), (8, height - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 2)
    return frame


def _rate_for(codec):
    return 48000 if codec == "libopus" else SAMPLE_RATE


def tone(seconds, frequency=440.0, rate=SAMPLE_RATE):
    """A sine tone as float32 samples, mono."""
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def write_video(
    path,
    seconds=2.0,
    fps=24,
    width=320,
    height=240,
    video_codec="libx264",
    audio_codec="aac",
    faststart=True,
    pixel_format="yuv420p",
    container=None,
    hue=0,
    frequency=440.0,
    keyframe_seconds=None,
):
    """Encode a test video; ``audio_codec=None`` for none, ``faststart`` puts moov first.

    Audio is encoded alongside the picture, so the two interleave through the
    file as a phone writes them: a player can seek without reading ahead.
    ``keyframe_seconds`` sets the keyframe interval (the encoder's default else,
    ~10 s for libx264): a short one lets players land a seek close to its target.
    """
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", format=container, container_options=options) as output:
        video = output.add_stream(video_codec, rate=fps)
        video.width, video.height, video.pix_fmt = width, height, pixel_format
        if keyframe_seconds:
            video.options = {"g": str(max(round(keyframe_seconds * fps), 1))}
        audio = None
        if audio_codec:
            audio = output.add_stream(audio_codec, rate=_rate_for(audio_codec))
            audio.layout = "mono"
            sound = _audio_frames(audio, tone(seconds, frequency, _rate_for(audio_codec)))
        for index in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(picture(index, width, height, hue), format="bgr24")
            output.mux(video.encode(frame))
            if audio is not None:
                _mux_audio_until(output, audio, sound, (index + 1) / fps)
        output.mux(video.encode())
        if audio is not None:
            _mux_audio_until(output, audio, sound, None)
            output.mux(audio.encode())
    return path


def write_audio(path, seconds=2.0, codec="libmp3lame", container=None, frequency=440.0):
    with av.open(str(path), "w", format=container) as output:
        stream = output.add_stream(codec, rate=_rate_for(codec))
        stream.layout = "mono"
        samples = tone(seconds, frequency, _rate_for(codec))
        _mux_audio_until(output, stream, _audio_frames(stream, samples), None)
        output.mux(stream.encode())
    return path


def _audio_frames(stream, samples):
    """The encoder's frames of ``samples``, each with its pts in samples; peekable."""
    frame_size = stream.codec_context.frame_size or 1024
    fmt = stream.codec_context.format.name
    rate = stream.codec_context.sample_rate
    frames = []
    for start in range(0, len(samples), frame_size):
        chunk = samples[start : start + frame_size]
        if len(chunk) < frame_size:
            chunk = np.pad(chunk, (0, frame_size - len(chunk)))
        frame = av.AudioFrame.from_ndarray(_as_format(chunk, fmt), format=fmt, layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
        frames.append(frame)
    frames.reverse()  # pop() from the end gives them in order
    return frames


def _mux_audio_until(output, stream, frames, seconds):
    """Encode the audio frames that start before ``seconds`` (all of them for None)."""
    rate = stream.codec_context.sample_rate
    while frames and (seconds is None or frames[-1].pts / rate < seconds):
        output.mux(stream.encode(frames.pop()))


def _as_format(chunk, fmt):
    """Float samples in [-1, 1] as the encoder's sample format (mono, so packed = planar)."""
    if fmt.startswith("s16"):
        return (chunk * 32767).astype(np.int16).reshape(1, -1)
    if fmt.startswith("s32"):
        return (chunk * 2147483647).astype(np.int32).reshape(1, -1)
    return chunk.reshape(1, -1)


def write_opencv_mp4v(path, seconds=2.0, fps=24, width=320, height=240):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for index in range(int(seconds * fps)):
        writer.write(picture(index, width, height))
    writer.release()
    return path


def write_noise_video(path, megabytes, width=1280, height=720, fps=25):
    """A real H.264 MP4 (moov first, no audio) of about ``megabytes`` MiB.

    Noise barely compresses (lossless x264), so size is reached in few frames:
    multi-chunk files for the Range tests and large ones for the benchmarks.
    """
    target = megabytes * 1024 * 1024
    noise = np.random.default_rng(7).integers(0, 256, (height, width, 3), dtype=np.uint8)
    with av.open(str(path), "w", container_options={"movflags": "+faststart"}) as output:
        stream = output.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "qp": "0"}
        written, index = 0, 0
        while written < target:
            frame = np.roll(noise, index * 7, axis=1)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
                written += packet.size
                output.mux(packet)
            index += 1
        output.mux(stream.encode())
    return path
