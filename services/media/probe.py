"""What a media file is, from its bytes (never its name or Content-Type).

PyAV (FFmpeg's libraries) opens the file, locked to it and to real media
containers (services.media.opening), checks what its headers and packets claim
(services.media.limits) and decodes a first frame of its main stream: a file
it cannot decode, or that is out of bounds, is not media we take. For MP4/MOV we also read
the top-level atoms to know whether ``moov`` comes before ``mdat``
(faststart), which decides between storing as is and remuxing.
"""

import struct
from dataclasses import dataclass, replace
from pathlib import Path

import av

from services.media.limits import DEFAULT_LIMITS, OutOfBounds, check_headers, trusted_duration
from services.media.opening import NotAllowedContainer, open_bytes, open_media

MP4_FAMILY = {"mov", "mp4", "m4a", "3gp", "3g2", "mj2"}
PLAYS_EVERYWHERE_VIDEO = {"h264"}
PLAYS_EVERYWHERE_AUDIO = {"aac"}


class NotMedia(Exception):
    """The bytes are not a video or audio file we can decode."""


@dataclass(frozen=True)
class MediaInfo:
    kind: str  # "video" or "audio"
    container: str  # FFmpeg's format names, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    duration: float | None
    size: int
    video_codec: str | None = None
    pixel_format: str | None = None
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    audio_codec: str | None = None
    moov_first: bool | None = None

    @property
    def is_mp4_family(self):
        return bool(set(self.container.split(",")) & MP4_FAMILY)

    def plays_everywhere(self):
        """H.264 (yuv420p) + AAC (or no audio) in MP4 with moov first."""
        return (
            self.kind == "video"
            and self.is_mp4_family
            and self.video_codec in PLAYS_EVERYWHERE_VIDEO
            and self.pixel_format == "yuv420p"
            and self.audio_codec in (None, *PLAYS_EVERYWHERE_AUDIO)
        )


def top_level_atoms(path, limit=64):
    """The names of an MP4 file's top-level boxes, in order (reads headers only)."""
    names = []
    with open_bytes(path) as media:
        while len(names) < limit:
            header = media.read(8)
            if len(header) < 8:
                break
            size, name = struct.unpack(">I4s", header)
            if size == 1:
                size = struct.unpack(">Q", media.read(8))[0]
                body = size - 16
            elif size == 0:
                names.append(name.decode("latin-1"))
                break
            else:
                body = size - 8
            if body < 0:
                break
            names.append(name.decode("latin-1"))
            media.seek(body, 1)
    return names


def moov_before_mdat(path):
    atoms = top_level_atoms(path)
    if "moov" not in atoms:
        return False
    return "mdat" not in atoms or atoms.index("moov") < atoms.index("mdat")


def probe(path, limits=DEFAULT_LIMITS):
    """MediaInfo for ``path``, or NotMedia when it cannot be decoded or is out of ``limits``.

    Headers are checked first, then every packet's timestamps are read (no
    decoding) for a duration that can be trusted, and only then is one frame
    decoded, from a fresh opening so nothing the packet pass did can skew it."""
    path = Path(path) if isinstance(path, str) else path  # or a remote_file.RemoteFile
    try:
        with open_media(path) as container:
            check_headers(container, limits)
            info = _describe(container, path)
            duration = trusted_duration(container, _main_streams(container), limits)
        with open_media(path) as container:
            _decode_first_frame(container, limits)
    except (NotAllowedContainer, OutOfBounds) as error:
        raise NotMedia(str(error)) from error
    except MemoryError:
        raise  # out of memory is the budget's verdict, not the file's (av's ENOMEM is both)
    except av.FFmpegError as error:
        raise NotMedia(error.strerror or "undecodable") from error  # no temp path in it
    except (UnicodeDecodeError, ValueError, IndexError) as error:
        raise NotMedia("undecodable") from error
    return replace(info, duration=duration)


def _main_streams(container):
    """The video (not cover art) and the audio stream that processing will use."""
    video = next((s for s in container.streams.video if not _is_cover_art(s)), None)
    audio = next(iter(container.streams.audio), None)
    return [stream for stream in (video, audio) if stream is not None]


def _describe(container, path):
    # Still images (image2, *_pipe, gif, webp) never get here: their demuxers are not allowed.
    streams = _main_streams(container)
    if not streams:
        raise NotMedia("no audio or video stream")
    video = streams[0] if streams[0].type == "video" else None
    audio = streams[-1] if streams[-1].type == "audio" else None
    info = {
        "kind": "video" if video is not None else "audio",
        "container": container.format.name,
        "duration": None,  # from the packets, once they are read
        "size": path.stat().st_size,
        "audio_codec": audio.codec_context.codec.canonical_name if audio is not None else None,
    }
    if video is not None:
        rate = video.average_rate or video.guessed_rate
        info.update(
            video_codec=video.codec_context.codec.canonical_name,
            pixel_format=video.codec_context.format.name if video.codec_context.format else None,
            width=video.codec_context.width,
            height=video.codec_context.height,
            frame_rate=round(float(rate), 3) if rate else None,
        )
    if set(container.format.name.split(",")) & MP4_FAMILY:
        info["moov_first"] = moov_before_mdat(path)
    return MediaInfo(**info)


def _is_cover_art(stream):
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _decode_first_frame(container, limits):
    stream = _main_streams(container)[0]
    for frame in container.decode(stream):
        if stream.type == "video":
            limits.check_picture(frame.width, frame.height)  # the header may have lied
        return
    raise NotMedia("no frame could be decoded")
