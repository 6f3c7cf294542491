"""Hostile media files, built on the fly from real ones, and a watch on a canary file.

- scripts that make FFmpeg open another file (ffconcat, an HLS playlist);
- MP4s whose ``mvhd``/``mdhd``/``stts`` boxes claim absurd or inconsistent durations;
- MJPEG-in-MOV clips whose header or frames claim huge pictures or frame rates: a
  grey baseline JPEG of any size is a header plus one repeated 3-byte pattern, so
  a 16000x16000 frame costs 3 MB on disk and 256 MB to decode.
"""

import ctypes
import ctypes.util
import os
import struct
from fractions import Fraction

import av
import cv2
import numpy as np

IN_OPEN = 0x20
IN_NONBLOCK = 0o4000


class OpenWatch:
    """Counts how often any process opens ``path`` (Linux inotify)."""

    def __init__(self, path):
        self.libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self.fd = self.libc.inotify_init1(IN_NONBLOCK)
        assert self.fd >= 0, os.strerror(ctypes.get_errno())
        watch = self.libc.inotify_add_watch(self.fd, str(path).encode(), IN_OPEN)
        assert watch >= 0, os.strerror(ctypes.get_errno())

    def opened(self):
        try:
            events = os.read(self.fd, 65536)
        except BlockingIOError:
            return False
        return len(events) > 0

    def close(self):
        os.close(self.fd)


def ffconcat_naming(target_name):
    return f"ffconcat version 1.0\nfile '{target_name}'\n".encode()


def hls_naming(target_name):
    return (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:2.0,\n{target_name}\n#EXT-X-ENDLIST\n"
    ).encode()


# ---- MP4 boxes ---------------------------------------------------------------------

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def boxes(data, start=0, end=None):
    """(offset, name) of every box under [start, end), depth first."""
    end = len(data) if end is None else end
    found = []
    while start + 8 <= end:
        size, name = struct.unpack(">I4s", data[start : start + 8])
        if size < 8:
            break
        found.append((start, name))
        if name in CONTAINERS:
            found.extend(boxes(data, start + 8, start + size))
        start += size
    return found


def patch_boxes(path, name, patch):
    """Rewrite every box called ``name`` in place with ``patch(data, offset)``."""
    data = bytearray(path.read_bytes())
    hits = [offset for offset, found in boxes(data) if found == name]
    assert hits, f"no {name} box"
    for offset in hits:
        patch(data, offset)
    path.write_bytes(bytes(data))
    return path


def set_header_duration(path, name, seconds, timescale=None):
    """mvhd or mdhd (version 0): timescale at +20, duration at +24."""

    def patch(data, offset):
        assert data[offset + 8] == 0, "version 0 expected"
        scale = timescale or struct.unpack(">I", data[offset + 20 : offset + 24])[0]
        data[offset + 20 : offset + 28] = struct.pack(
            ">II", scale, min(int(seconds * scale), 2**32 - 1)
        )

    return patch_boxes(path, name, patch)


def set_sample_deltas(path, track_index, delta):
    """Every stts entry of one track gets ``delta`` (in its mdhd timescale)."""
    data = bytearray(path.read_bytes())
    tables = [offset for offset, found in boxes(data) if found == b"stts"]
    offset = tables[track_index]
    entries = struct.unpack(">I", data[offset + 12 : offset + 16])[0]
    for entry in range(entries):
        at = offset + 16 + entry * 8 + 4
        data[at : at + 4] = struct.pack(">I", delta)
    path.write_bytes(bytes(data))
    return path


# ---- MJPEG pictures of any size -----------------------------------------------------


def grey_jpeg(side):
    """A valid baseline JPEG, ``side`` x ``side`` mid-grey: with the standard tables each
    8x8 block is DC diff 0 ("00") + EOB ("1010"), four blocks to three bytes."""
    assert side % 16 == 0
    small = cv2.imencode(".jpg", np.full((32, 32), 128, np.uint8))[1].tobytes()
    scan = small.index(b"\xff\xda")
    header = small[: scan + 2 + struct.unpack(">H", small[scan + 2 : scan + 4])[0]]
    frame = header.index(b"\xff\xc0")
    header = header[: frame + 5] + struct.pack(">HH", side, side) + header[frame + 9 :]
    return header + b"\x28\xa2\x8a" * ((side // 8) ** 2 // 4) + b"\xff\xd9"


def mjpeg_mov(path, pictures, header_side=16, rate=24):
    """A MOV whose MJPEG track header says ``header_side`` square, holding ``pictures``."""
    with av.open(str(path), "w", format="mov") as output:
        stream = output.add_stream("mjpeg", rate=rate)
        stream.width = stream.height = header_side
        stream.pix_fmt = "yuvj420p"
        for index, picture in enumerate(pictures):
            packet = av.Packet(picture)
            packet.stream = stream
            packet.pts = packet.dts = index
            packet.duration = 1
            packet.time_base = Fraction(1, rate)
            output.mux(packet)
    return path
