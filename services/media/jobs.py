"""Processing, off the request thread: probe, rendition, thumbnail, HLS ladder, ready.

Each video is worked on under a lease in its document, renewed by a heartbeat
while the work goes on (services.media.lease); a process that dies leaves
an expired lease, and the sweep that runs at start-up (and every
``SWEEP_SECONDS``) picks the video up again. Every GridFS file made on the way
is deleted if a later step fails, or if the lease was lost to another job.

Where jobs run is ``PROCESSING_WORKERS``: each API process runs that many (2 by default),
or, with 0, none: an upload then only queues its video (``lease_until`` null) and
``worker.py`` processes claim them (``claim_free``), as many at a time as they have slots.
Ready videos without an HLS ladder are queued the same way, as ladder jobs
(services.media.ladder_job), with a lease of their own.
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from flask import current_app

from models import job_files, ladder_jobs, media_file
from models import video as videos
from services.media import attempt, ladder_job, renditions, resumable, sandbox
from services.media.conversation import SandboxCancelled, SandboxFailed
from services.media.lease import LADDER, PROCESSING, FilesMade, Lease
from services.media.probe import MediaInfo, NotMedia
from services.media.progress import Progress
from services.sweeper import Sweeper

log = logging.getLogger(__name__)

LEASE_SECONDS = 120  # PROCESSING_LEASE_SECONDS; the heartbeat renews it four times as often
SWEEP_SECONDS = 30
CLAIM_SPARE = 4  # candidates a worker reads beyond its free slots


class MediaJobs:
    """The processing jobs of one process: a small thread pool, or none (workers=0)."""

    def __init__(self, app, workers=None):
        self.app = app
        self.lease_seconds = app.config.get("PROCESSING_LEASE_SECONDS", LEASE_SECONDS)
        self.workers = app.config.get("PROCESSING_WORKERS", 2) if workers is None else workers
        self.executor = None
        if self.workers > 0:
            self.executor = ThreadPoolExecutor(self.workers, thread_name_prefix="media")
        self._claimed_jobs = []  # claim_free's, for busy()
        # Ladder jobs submitted and not over: a backlog of ladders (the backfill) outlasts many
        # sweeps, and each would queue the same first videos again behind the running ones.
        self._ladders_queued = set()
        self.stopping = threading.Event()  # set: every running job gives its video back
        self._sweeper = Sweeper("media-sweep", SWEEP_SECONDS, self.sweep)

    def submit(self, video_id, kind=PROCESSING):
        """Process ``video_id`` here (or make its ladder: ``kind`` LADDER); with no workers
        it stays queued for worker.py."""
        if self.executor is None:
            return None
        return self.executor.submit(self._run, video_id, kind)

    def _run(self, video_id, kind=PROCESSING):
        try:
            with self.app.app_context():
                lease = self._lease(video_id, kind)
                if lease.claim():
                    self._work(lease)
        finally:
            self._ladders_queued.discard((video_id, kind))

    def _lease(self, video_id, kind):
        return Lease(self.app, video_id, self.lease_seconds, self.stopping, kind)

    def _work(self, lease):
        with lease.kept_alive():
            if lease.kind is LADDER:
                ladder_job.run(lease.video_id, lease)
            else:
                process(lease.video_id, lease)

    def sweep(self):
        """Queue every video whose processing was abandoned by a dead process, and every
        ladder job queued or abandoned (none when this process has no workers), and remove
        the chunks of uploads that a dead process left half-written, and of resumable
        uploads that expired."""
        with self.app.app_context():
            media_file.remove_abandoned_uploads()
            resumable.remove_expired()
            resumable.finish_stranded()
            found = self._candidates() if self.executor is not None else []
        found = [(v, kind) for v, kind in found if (v, kind) not in self._ladders_queued]
        for video_id, kind in found:
            log.info("resuming %s of %s", kind.name, video_id)
            if kind is LADDER:
                self._ladders_queued.add((video_id, kind))
            self.submit(video_id, kind)
        return [video_id for video_id, _ in found]

    @staticmethod
    def _candidates(limit=20):
        """(video id, kind) of the jobs to claim: processing first (a viewer is waiting for
        those), then ladders. Call in an app context."""
        found = [(video_id, PROCESSING) for video_id in videos.abandoned(limit=limit)]
        if len(found) < limit:
            found += [(video_id, LADDER) for video_id in ladder_jobs.pending(limit - len(found))]
        return found

    def claim_free(self):
        """worker.py's turn: claim queued or abandoned videos while a job slot is free, each
        claimed here (not in the pool's queue) so no video waits behind a busy worker.
        Returns the ids claimed. Called from one thread (the worker's loop)."""
        free = self.workers - self.busy()
        if free <= 0:
            return []
        claimed = []
        with self.app.app_context():
            # A few more candidates than slots: workers polling together race for the first.
            for video_id, kind in self._candidates(limit=free + CLAIM_SPARE):
                lease = self._lease(video_id, kind)
                if not lease.claim():  # another worker was first
                    continue
                log.info("claimed video %s for %s", video_id, kind.name)
                claimed.append(video_id)
                self._claimed_jobs.append(self.executor.submit(self._claimed, lease))
                if len(claimed) == free:
                    break
        return claimed

    def busy(self):
        """How many jobs claim_free started are still running."""
        self._claimed_jobs = [job for job in self._claimed_jobs if not job.done()]
        return len(self._claimed_jobs)

    def _claimed(self, lease):
        with self.app.app_context():
            try:
                self._work(lease)
            except Exception:  # the database away at the end: the lease runs out, and is retried
                log.exception("processing of %s stopped", lease.video_id)

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
    media_file.delete(*job_files.leftover_files(video))  # a killed job's, if any
    ladder_job.remove_leftovers(video)
    created = FilesMade(lease)
    failed = partial(_failed, video, created)
    fields = attempt.run(created, "video-", _process_in, video, created, lease, failed=failed)
    if fields is None:
        return
    if not lease.finish(status=videos.READY, **fields):
        attempt.discard(created)
        return
    if video["source_file_id"] != fields["media_file_id"]:
        media_file.delete(video["source_file_id"])
    log.info("video %s ready (%s)", video_id, fields["rendition"])


def _failed(video, created, error):
    """The job failed on its own (its lease still held): the video is failed for good, and
    its source goes with what the job made (a failed upload is not retried)."""
    log.warning("processing of %s failed", video["_id"], exc_info=error)
    attempt.delete_made(created)
    failed = created.lease.finish(
        status=videos.FAILED, failure_reason=_reason(error), source_file_id=None
    )
    if failed:
        media_file.delete(video.get("source_file_id"))


def _reason(error):
    if isinstance(error, NotMedia):
        return f"The file could not be decoded: {error}"
    if isinstance(error, SandboxFailed):
        return f"Processing stopped: {error}"[:500]
    return f"Processing failed: {type(error).__name__}: {error}"[:500]


def _process_in(workdir, video, created, lease):
    source, progress = workdir / "source", Progress(lease)
    progress("download")
    media_file.download_to(video["source_file_id"], source)
    prepared = _prepared(source, workdir, lease, progress)
    progress("store")
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
    if info.kind == "video":  # last: a ladder that fails leaves the video ready without it
        fields.update(
            ladder_job.stage(video, source, workdir, info.duration, lease, created, progress)
        )
    return fields


def _prepared(source, workdir, lease, progress):
    """Every FFmpeg step runs in a child with bounded memory and time; GridFS stays here.
    The child is killed as soon as the work is unwanted (lease lost, worker stopping)."""
    try:
        return sandbox.prepare_media(
            source, workdir, current_app.config, progress, lease.should_stop
        )
    except SandboxCancelled:
        lease.check()  # raises LeaseLost or JobAbandoned: why it was cancelled
        raise


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
