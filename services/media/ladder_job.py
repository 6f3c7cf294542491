"""The HLS ladder in a video's life: the ``hls`` stage of processing, and the ladder job.

A new upload's job makes the ladder after the thumbnail, before the video is ready
(services.media.jobs). An existing ready video without one gets a *ladder job*
(models.ladder_jobs: queued at start-up, claimed through its own lease like processing),
which makes it from the stored progressive file, its original being gone.

A ladder that fails does not fail the video: the progressive file plays everywhere. The
video is (or stays) ready without ``hls``, its ``hls_job`` records the failure (so it is
not tried again at every start-up), nothing of the attempt is left in GridFS, and the
failure is logged. A lost lease is different: the job stops and discards its work
(LeaseLost goes through), the job that holds the video now decides.
"""

import logging
from functools import partial

from flask import current_app

from models import hls, media_file
from models import ladder_jobs as queue
from models import video as videos
from services.media import attempt, hls_store
from services.media.conversation import SandboxCancelled, SandboxFailed
from services.media.lease import FilesMade, LeaseLost
from services.media.progress import Progress

log = logging.getLogger(__name__)

NO_PICTURE = "the video has no picture to make a ladder of"


def remove_leftovers(video):
    """Ladders of ``video`` other than its published one: a killed job's. Only the holder of
    the video's lease calls this, so no live attempt is among them."""
    published = (video.get("hls") or {}).get("ladder")
    hls.delete_video_ladders(video["_id"], keep=published)


def stage(video, source, workdir, duration, lease, created, progress):
    """The ``hls`` stage of a job: the fields to finish it with, ``{"hls": summary}`` or
    ``{"hls_job": failure}`` (nothing when HLS_MAX_RENDITIONS is 0). LeaseLost goes through;
    the attempt's files are in ``created.ladders`` until it is safely over."""
    config = current_app.config
    if not hls_store.enabled(config):
        return {}
    progress(hls_store.STAGE)
    try:
        manifest = _encoded(source, workdir, config, duration, lease, progress)
        if manifest is None:
            return _failed(video, created, NO_PICTURE)
        summary = hls_store.store(video["_id"], manifest, workdir, lease, created.ladders, progress)
    except LeaseLost:
        raise
    except Exception as error:
        log.warning("the HLS ladder of %s failed", video["_id"], exc_info=True)
        return _failed(video, created, _reason(error))
    return {"hls": summary}


def _encoded(source, workdir, config, duration, lease, progress):
    try:
        return hls_store.encode(source, workdir, config, duration, progress, lease.should_stop)
    except SandboxCancelled:
        lease.check()  # LeaseLost or JobAbandoned: why it was cancelled
        raise


def _failed(video, created, reason):
    """Nothing of the attempt stays; the video plays its progressive file."""
    hls.delete_ladder(video["_id"], *created.ladders)
    created.ladders.clear()
    log.warning("video %s has no HLS ladder: %s", video["_id"], reason)
    return {"hls_job": {"state": queue.FAILED, "failure": reason}}


def _reason(error):
    if isinstance(error, SandboxFailed):
        return f"The ladder stopped: {error}"[:500]
    return f"The ladder failed: {type(error).__name__}: {error}"[:500]


def run(video_id, lease):
    """The ladder job of a ready video whose ladder ``lease`` this job holds."""
    video = videos.find(video_id)
    if video is None:  # purged meanwhile
        return
    remove_leftovers(video)
    created = FilesMade(lease)
    stopped = partial(_stopped, created)
    fields = attempt.run(created, "ladder-", _made_in, video, lease, created, failed=stopped)
    if fields is None:
        return
    if not lease.finish(**fields):
        attempt.discard(created)
        return
    log.info("video %s: HLS ladder %s", video_id, "made" if "hls" in fields else "not made")


def _stopped(created, error):
    """The progressive file could not be read: the lease runs out, and the job is retried."""
    log.warning("the ladder job of %s stopped", created.lease.video_id, exc_info=error)
    attempt.discard(created)


def _made_in(workdir, video, lease, created):
    source, progress = workdir / "source", Progress(lease)
    media_file.download_to(video["media_file_id"], source)
    return stage(video, source, workdir, video.get("duration"), lease, created, progress)
