"""Opening an uploaded file with FFmpeg so that it reads that file and nothing else.

FFmpeg picks a demuxer by sniffing the bytes, and some demuxers open other
files or URLs named inside the upload: concat scripts (``ffconcat``), HLS and
DASH playlists, image sequences, ``tee``... An upload could then make the
server read its own files. Two locks, either of which is enough:

- ``format_whitelist``: only demuxers of real single-file media containers
  may read the header; any other sniffed format fails before its demuxer
  starts, so it never gets to open what it names;
- the bytes reach FFmpeg through a Python file object and
  ``protocol_whitelist`` names no protocol, so even an allowed demuxer that
  tried to open a second file or URL would be refused.
"""

from contextlib import contextmanager

import av

# FFmpeg demuxer names (a demuxer matches when any name of its own list is here).
ALLOWED_DEMUXERS = (
    "mov",  # mov,mp4,m4a,3gp,3g2,mj2
    "matroska",  # matroska,webm
    "mpegts",
    "avi",
    "flv",
    "mp3",
    "aac",  # ADTS
    "wav",
    "ogg",
    "flac",
)
ALLOWED_CONTAINERS = "MP4/MOV/3GP, Matroska/WebM, MPEG-TS, AVI, FLV, MP3, AAC, WAV, Ogg, FLAC"
LOCKED_INPUT = {
    "format_whitelist": ",".join(ALLOWED_DEMUXERS),
    # No protocol is named "none": every nested open is refused.
    "protocol_whitelist": "none",
    "enable_drefs": "0",  # mov: never follow references to external sample files
}


class NotAllowedContainer(Exception):
    """FFmpeg saw a format that is not on the list (or no format at all)."""


def open_bytes(source):
    """A binary file object of a path, or of what opens itself (remote_file.RemoteFile)."""
    return source.open("rb") if hasattr(source, "open") else open(source, "rb")


@contextmanager
def open_media(path):
    """The PyAV input container of ``path``, locked to it; NotAllowedContainer otherwise."""
    with open_bytes(path) as stream:
        try:
            container = av.open(stream, options=dict(LOCKED_INPUT))
        except (av.FFmpegError, OSError) as error:
            # Refused formats and unrecognisable bytes look alike here: EINVAL or EPERM
            # (an empty file makes FFmpeg seek past its end: OSError from the file object).
            raise NotAllowedContainer(
                f"not a media container we accept ({ALLOWED_CONTAINERS})"
            ) from error
        with container:
            yield container
