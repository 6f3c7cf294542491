"""Processing, off the request thread: probe, rendition, thumbnail, ready.

Each video is worked on under a lease in its document, renewed by a heartbeat
while the work goes on (services.media.lease); a process that dies leaves
an expired lease, and the sweep that runs at start-up (and every
``SWEEP_SECONDS``) picks the video up again. Every GridFS file made on the way
is deleted if a later step fails, or if the lease was lost to another job.
"""

import logging
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from flask import current_app

from models import media_file
from models import video as videos
from services.media import renditions, sandbox
from services.media.lease import FilesMade, Lease, LeaseLost
from services.media.probe import MediaInfo, NotMedia
from services.media.sandbox import SandboxFailed
from services.sweeper import Sweeper

log = logging.getLogger(__name__)

LEASE_SECONDS = 120  # PROCESSING_LEASE_SECONDS; the heartbeat renews it four times as often
SWEEP_SECONDS = 30


class MediaJobs:
    """A small thread pool per process that processes uploaded videos."""

    def __init__(self, app, workers=2):
        self.app = app
        self.lease_seconds = app.config.get("PROCESSING_LEASE_SECONDS", LEASE_SECONDS)
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="media")
        self._sweeper = Sweeper("media-sweep", SWEEP_SECONDS, self.sweep)

    def submit(self, video_id):
        return self.executor.submit(self._run, video_id)

    def _run(self, video_id):
        with self.app.app_context():
            lease = Lease(self.app, video_id, self.lease_seconds)
            if lease.claim():
                with lease.kept_alive():
                    process(video_id, lease)

    def sweep(self):
        """Queue every video whose processing was abandoned by a dead process,
        and remove the chunks of uploads that a dead process left half-written."""
        with self.app.app_context():
            media_file.remove_abandoned_uploads()
            found = videos.abandoned()
        for video_id in found:
            log.info("resuming processing of %s", video_id)
            self.submit(video_id)
        return found

    def start_sweeping(self):
        self._sweeper.start()

    def stop_sweeping(self):
        self._sweeper.stop()


def process(video_id, lease):
    """Process one video whose ``lease`` this job holds.

    Only the lease holder writes the outcome. A job that lost its lease leaves the
    document, and the source the new holder works from, alone: it removes only the
    files it made itself.
    """
    video = videos.find(video_id)
    if video is None:  # purged meanwhile
        return
    # A soft-deleted video is processed too: an admin may restore it, and a job that
    # returned early would hold its lease until it ran out, then be claimed again forever.
    created = FilesMade(lease)
    try:
        with tempfile.TemporaryDirectory(prefix="video-") as workdir:
            fields = _process_in(Path(workdir), video, created)
    except LeaseLost:
        _discard(video_id, created)
        return
    except Exception as error:
        log.warning("processing of %s failed", video_id, exc_info=True)
        media_file.delete(*created)
        failed = lease.finish(
            status=videos.FAILED, failure_reason=_reason(error), source_file_id=None
        )
        if failed:
            media_file.delete(video.get("source_file_id"))
        return
    if not lease.finish(status=videos.READY, **fields):
        _discard(video_id, created)
        return
    if video["source_file_id"] != fields["media_file_id"]:
        media_file.delete(video["source_file_id"])
    log.info("video %s ready (%s)", video_id, fields["rendition"])


def _discard(video_id, created):
    """The work of a job that lost its lease: the files it made go; the video and its
    source belong to the job that holds the lease now."""
    log.warning("processing lease of %s was lost: the work done is discarded", video_id)
    media_file.delete(*created)


def _reason(error):
    if isinstance(error, NotMedia):
        return f"The file could not be decoded: {error}"
    if isinstance(error, SandboxFailed):
        return f"Processing stopped: {error}"[:500]
    return f"Processing failed: {type(error).__name__}: {error}"[:500]


def _process_in(workdir, video, created):
    source = workdir / "source"
    media_file.download_to(video["source_file_id"], source)
    # Every FFmpeg step runs in a child with bounded memory and time; GridFS stays here.
    prepared = sandbox.prepare_media(source, workdir, current_app.config)
    plan, info = renditions.Plan(**prepared["plan"]), MediaInfo(**prepared["info"])
    fields = {"rendition": plan.action, "mime_type": plan.mime_type}
    if plan.action == renditions.AS_IS:
        fields.update(
            media_file_id=video["source_file_id"],
            sha256=video["source_sha256"],
            size=video["source_size"],
        )
    else:
        file_id, size, sha256 = media_file.store(
            Path(prepared["stored"]),
            f"{video['_id']}.{plan.extension}",
            plan.mime_type,
            {"video_id": video["_id"], "role": "media"},
        )
        created.append(file_id)
        fields.update(media_file_id=file_id, sha256=sha256, size=size)
    fields.update(_describe(info))
    fields["thumbnail_file_id"], fields["thumbnail_sha256"] = _thumbnail(
        video, prepared["thumbnail"], created
    )
    return fields


def _describe(info):
    return {
        "kind": info.kind,
        "duration": info.duration,
        "width": info.width,
        "height": info.height,
        "frame_rate": info.frame_rate,
        "video_codec": info.video_codec,
        "audio_codec": info.audio_codec,
    }


def _thumbnail(video, jpeg_path, created):
    """(file id, sha256) of the JPEG thumbnail; (None, None) for audio."""
    if jpeg_path is None:
        return None, None
    file_id, sha256 = media_file.store_bytes(
        Path(jpeg_path).read_bytes(),
        f"{video['_id']}.jpg",
        "image/jpeg",
        {"video_id": video["_id"], "role": "thumbnail"},
    )
    created.append(file_id)
    return file_id, sha256
