"""The HLS ladder of a video, from the sandbox child's segments to encrypted GridFS files.

The child (services.media.ladder) encodes the rungs into MPEG-TS segments in the job's
folder and answers a manifest; it never sees a key. Here, in the parent:

- one random AES-128 key per ladder, stored (models.hls) before any segment it encrypts,
  so a job that dies leaves nothing a later attempt cannot find by the ladder's id;
- each segment is encrypted with AES-128-CBC and PKCS7 padding (RFC 8216 5.2), under its
  own random IV: FFmpeg's default IV (the segment number) would give segment n of every
  rung the same key and IV, and their identical first blocks (PAT, PMT) the same
  ciphertext;
- each encrypted segment is one GridFS file (models.media_file.store, so chunks, upload
  lease and sha256 are those of every other media file), and the sha256 of the encrypted
  bytes is its ETag;
- the summary the video document gets: per rendition its size, codecs, frame rate, and
  bandwidths measured on the encrypted segments (what a player downloads).

The key only ever lives in this process's memory and in ``hls_keys``: it is never
formatted into a message, a log line or an exception.
"""

import hashlib
import math
import os
from dataclasses import asdict

from bson import ObjectId
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from models import hls, media_file
from models.common import utcnow
from services import hls_playlists
from services.media import ladder_plan, ladder_segments, sandbox
from services.media.limits import MediaLimits

KEY_BYTES = IV_BYTES = 16  # AES-128, and its block
SEGMENT_TYPE = "video/mp2t"
STAGE = "hls"
# The stage's share of the child's encoding; storing the segments fills the rest of it.
ENCODE_SHARE = 0.8
ENCRYPTED_FILE = "segment.aes"  # in the job's folder, beside the child's hls/ folder


def encrypt(key, iv, data):
    """AES-128-CBC of ``data`` padded with PKCS7, as HLS players decrypt a segment."""
    padder = padding.PKCS7(algorithms.AES.block_size).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def settings_from(config):
    """The child's LadderSettings from the HLS_* settings."""
    return ladder_plan.LadderSettings(
        max_renditions=config["HLS_MAX_RENDITIONS"],
        segment_seconds=config["HLS_SEGMENT_SECONDS"],
        preset=config["HLS_X264_PRESET"],
        preset_high=config["HLS_X264_PRESET_HIGH"],
        crf=config["HLS_CRF"],
        audio_bit_rate=config["HLS_AUDIO_BIT_RATE"],
        x264_threads=config["HLS_X264_THREADS"],
    )


def enabled(config):
    """``HLS_MAX_RENDITIONS=0`` makes no ladder (progressive playback only)."""
    return config["HLS_MAX_RENDITIONS"] > 0


def budget(config, duration):
    """The ladder child's memory and wall clock: its own memory budget (three x264
    encoders reserve more address space than one transcode), and time that grows with the
    video, since even a fast ladder of a long video outlasts MEDIA_JOB_SECONDS."""
    seconds = math.ceil(config["HLS_SECONDS_PER_MEDIA_SECOND"] * (duration or 0))
    return sandbox.Budget(config["HLS_JOB_MEMORY_MB"], max(config["MEDIA_JOB_SECONDS"], seconds))


def encode(source, workdir, config, duration, progress, cancelled=None):
    """The child's manifest of ``source``'s ladder in ``workdir/hls``; None without video.
    Its progress is reported as the first ENCODE_SHARE of the ``hls`` stage."""
    arguments = {
        "source": str(source),
        "workdir": str(workdir),
        "limits": asdict(MediaLimits.from_config(config)),
        "settings": settings_from(config).as_dict(),
    }
    return sandbox.run(
        "ladder",
        arguments,
        budget(config, duration),
        lambda stage, done: progress(stage, done * ENCODE_SHARE),
        cancelled,
    )


def store(video_id, manifest, workdir, lease, ladders, progress):
    """Encrypt and store every segment of ``manifest`` as a new ladder; its summary.

    The new ladder's id is appended to ``ladders`` before anything is stored: whoever
    discards the work deletes it by that id. ``lease.check()`` after each segment stops a
    job that lost its video (LeaseLost) before it stores more."""
    ladder = ObjectId()
    ladders.append(ladder)
    key = os.urandom(KEY_BYTES)
    hls.store_key(ladder, video_id, key)
    writer = _SegmentWriter(video_id, ladder, key, workdir)
    total = sum(len(rendition["segments"]) for rendition in manifest["renditions"])
    renditions = []
    for rendition in manifest["renditions"]:
        sizes = []
        for n, segment in enumerate(rendition["segments"]):
            sizes.append(writer.write(rendition["name"], n, segment))
            lease.check()
            progress(STAGE, ENCODE_SHARE + (1 - ENCODE_SHARE) * writer.count / total)
        renditions.append(summary_of(rendition, sizes))
    renditions.sort(key=lambda r: (min(r["width"], r["height"]), r["bandwidth"]), reverse=True)
    return {"ladder": ladder, "made_at": utcnow(), "renditions": renditions}


class _SegmentWriter:
    """Encrypts a segment into one scratch file and stores that file in GridFS."""

    def __init__(self, video_id, ladder, key, workdir):
        self.video_id, self.ladder, self.key = video_id, ladder, key
        self.workdir, self.count = workdir, 0

    def write(self, rendition, n, segment):
        """Store segment ``n`` of ``rendition``; its duration and encrypted size."""
        plain = ladder_segments.segment_path(self.workdir, segment["file"]).read_bytes()
        iv = os.urandom(IV_BYTES)
        sealed = encrypt(self.key, iv, plain)
        sha256 = hashlib.sha256(sealed).hexdigest()
        scratch = self.workdir / ENCRYPTED_FILE
        scratch.write_bytes(sealed)
        metadata = hls.segment_metadata(
            self.video_id, self.ladder, rendition, n, segment["duration"], iv.hex(), sha256
        )
        name = f"{self.video_id}-{rendition}-{hls_playlists.segment_name(n)}"
        media_file.store(scratch, name, SEGMENT_TYPE, metadata)
        self.count += 1
        return {"size": len(sealed), "duration": segment["duration"]}


def summary_of(rendition, segments):
    """What the video document keeps of a rendition: the master playlist's attributes,
    bandwidths measured on the encrypted ``segments`` [{size, duration}]."""
    bandwidth, average = hls_playlists.bandwidths(segments)
    return {
        "name": rendition["name"],
        "width": rendition["width"],
        "height": rendition["height"],
        "bandwidth": bandwidth,
        "average_bandwidth": average,
        "codecs": rendition["codecs"],
        "frame_rate": rendition["frame_rate"],
        "segments": len(segments),
        "target_duration": hls_playlists.target_duration(s["duration"] for s in segments),
    }
