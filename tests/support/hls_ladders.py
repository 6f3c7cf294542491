"""A real encrypted HLS ladder for a stored video, stored as the ladder contract says.

Stands in for the processing job's ladder store (issue17-store: models/hls.py and
services/media/hls_store.py) until that branch is merged; then ``store`` becomes a call of
that store, and this module keeps only what tests need on top (the key, the plain bytes).

``encode`` runs the real encoder (services.media.ladder.encode_ladder) in this process;
``store`` encrypts each MPEG-TS segment with AES-128-CBC (PKCS#7) under one random key per
ladder and a random IV per segment, keeps it in GridFS through models.media_file (so chunks,
size and uploadDate are those of any media file), the key in ``hls_keys``, and publishes the
summary on the video document, bandwidths measured over the encrypted bytes.
"""

import hashlib
import importlib.util
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bson import Binary, ObjectId

from models import media_file
from models import video as videos
from models.common import object_id, utcnow
from models.db import get_db
from services import hls_playlists
from services.media import ladder, ladder_segments
from services.media.ladder_plan import LadderSettings
from tests.support.tools import require_tool

KEY_BYTES = 16


def require_cryptography():
    """``cryptography`` encrypts here as the store does: a requirement (requirements.txt)."""
    require_tool(importlib.util.find_spec("cryptography"), "cryptography (make install)")


def encrypt(key, iv, plain):
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def decrypt(key, iv, secret):
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

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


@dataclass
class Stored:
    """What store() put in the database, and what a test needs to check it."""

    ladder: ObjectId
    key: bytes
    summary: dict
    ivs: dict = field(default_factory=dict)  # (rendition, n) -> 16 bytes


def store(app, video_id, encoded):
    """Store ``encoded`` as ``video_id``'s published ladder (a fresh key and ladder id)."""
    video_id = object_id(video_id)
    stored = Stored(ObjectId(), os.urandom(KEY_BYTES), {})
    with app.app_context():
        get_db().hls_keys.insert_one(
            {
                "_id": stored.ladder,
                "video_id": video_id,
                "key": Binary(stored.key),
                "created_at": utcnow(),
            }
        )
        ordered = sorted(encoded.manifest["renditions"], key=lambda r: -r["height"])
        renditions = [_store_rendition(video_id, encoded, r, stored) for r in ordered]
        stored.summary = {"ladder": stored.ladder, "made_at": utcnow(), "renditions": renditions}
        videos.update(video_id, hls=stored.summary)
    return stored


def _store_rendition(video_id, encoded, rendition, stored):
    measured = []
    for n, segment in enumerate(rendition["segments"]):
        iv = os.urandom(KEY_BYTES)
        secret = encrypt(stored.key, iv, encoded.plain(rendition["name"], n))
        _store_segment(video_id, stored.ladder, rendition["name"], n, segment, iv, secret)
        stored.ivs[(rendition["name"], n)] = iv
        measured.append({"size": len(secret), "duration": segment["duration"]})
    bandwidth, average = hls_playlists.bandwidths(measured)
    return {
        "name": rendition["name"],
        "width": rendition["width"],
        "height": rendition["height"],
        "bandwidth": bandwidth,
        "average_bandwidth": average,
        "codecs": rendition["codecs"],
        "frame_rate": rendition["frame_rate"],
        "segments": len(measured),
        "target_duration": hls_playlists.target_duration(m["duration"] for m in measured),
    }


def _store_segment(video_id, ladder_id, rendition, n, segment, iv, secret):
    sha256 = hashlib.sha256(secret).hexdigest()
    metadata = {
        "video_id": video_id,
        "role": "hls_segment",
        "ladder": ladder_id,
        "rendition": rendition,
        "n": n,
        "duration": segment["duration"],
        "iv": iv.hex(),
        "sha256": sha256,
    }
    with tempfile.NamedTemporaryFile(suffix=".ts") as temporary:
        temporary.write(secret)
        temporary.flush()
        name = f"{rendition}/{hls_playlists.segment_name(n)}"
        _, _, digest = media_file.store(temporary.name, name, "video/mp2t", metadata=metadata)
    assert digest == sha256


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
