"""A real encrypted HLS ladder for a stored video, stored by the processing job's store.

``encode`` runs the real encoder (services.media.ladder.encode_ladder) in this process and
keeps its folder, so a test can compare what a player decrypts with the plain segments;
``store`` hands that ladder to services.media.hls_store.store, as the ``hls`` stage of
processing does (services.media.ladder_job), publishes its summary on the video, and reads
back through the playback side (models.hls_reads) what a test checks: the key and each
segment's IV.
"""

from dataclasses import dataclass
from pathlib import Path

from bson import ObjectId
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from models import hls, hls_reads
from models import video as videos
from models.common import object_id
from services.media import hls_store, ladder, ladder_segments
from services.media.ladder_plan import LadderSettings


def decrypt(key, iv, secret):
    """What a player does with a segment: AES-128-CBC, then PKCS#7 padding removed."""
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(secret) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


@dataclass(frozen=True)
class Encoded:
    """A ladder as the sandbox child leaves it: its manifest and the folder it names."""

    workdir: Path
    manifest: dict

    def plain(self, rendition, n):
        segment = self.rendition(rendition)["segments"][n]
        return ladder_segments.segment_path(self.workdir, segment["file"]).read_bytes()

    def rendition(self, name):
        return next(r for r in self.manifest["renditions"] if r["name"] == name)


def encode(source, workdir, **settings):
    """``source``'s ladder, encoded for real; ``settings`` as LadderSettings takes them."""
    manifest = ladder.encode_ladder(
        Path(source), Path(workdir), settings=LadderSettings(**settings)
    )
    assert manifest is not None, "the source has no video stream"
    return Encoded(Path(workdir), manifest)


@dataclass(frozen=True)
class Stored:
    """The published ladder, and what a test needs to check it."""

    ladder: ObjectId
    key: bytes
    summary: dict
    ivs: dict  # (rendition, n) -> 16 bytes


class _Held:
    """The lease the store checks after each segment: here the test is the video's only
    writer, so it is never lost (test_hls_store.py loses it for real)."""

    def check(self):
        pass


def store(app, video_id, encoded):
    """Store ``encoded`` as ``video_id``'s published ladder (a fresh key and ladder id); the
    ladder processing may have made for it already is deleted."""
    video_id = object_id(video_id)
    with app.app_context():
        replaced = (videos.find(video_id).get("hls") or {}).get("ladder")
        summary = hls_store.store(
            video_id, encoded.manifest, encoded.workdir, _Held(), [], lambda *_: None
        )
        videos.update(video_id, hls=summary)
        hls.delete_ladder(video_id, replaced)
        return Stored(
            summary["ladder"],
            hls_reads.ladder_key(summary["ladder"]),
            summary,
            _ivs(video_id, summary),
        )


def _ivs(video_id, summary):
    return {
        (rendition["name"], segment["n"]): bytes.fromhex(segment["iv"])
        for rendition in summary["renditions"]
        for segment in hls_reads.segment_list(video_id, summary["ladder"], rendition["name"])
    }


def write_noisy_clip(path, seconds=6, fps=24, width=640, height=360):
    """An H.264 + AAC MP4 whose picture is moving noise: every rung of its ladder runs at
    its bit-rate cap, so the rungs' BANDWIDTHs stand well apart (a smooth test picture
    makes rungs a few kbit/s apart, and a player's choice between them says nothing)."""
    import av
    import numpy as np

    rng = np.random.default_rng(17)
    base = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    rate = 48000
    with av.open(str(path), "w", container_options={"movflags": "+faststart"}) as output:
        video = output.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "18"}
        audio = output.add_stream("aac", rate=rate)
        audio.layout = "stereo"
        for index in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(np.roll(base, index * 5, axis=1), format="bgr24")
            output.mux(video.encode(frame))
        output.mux(video.encode())
        size = audio.codec_context.frame_size or 1024
        for start in range(0, int(seconds * rate), size):
            t = (np.arange(start, start + size) / rate).astype(np.float32)
            tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            sound = av.AudioFrame.from_ndarray(
                np.stack([tone, tone]), format="fltp", layout="stereo"
            )
            sound.sample_rate, sound.pts = rate, start
            output.mux(audio.encode(sound))
        output.mux(audio.encode())
    return path
