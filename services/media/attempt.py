"""One attempt at a job on a video: its work in a temporary folder, and, when that work is
unwanted, the GridFS files and HLS ladders it made deleted, and nothing else.

Processing (services.media.jobs) and the ladder job (services.media.ladder_job) record each
file and ladder they make in a FilesMade. When their work is unwanted (the lease lost to
another job, the worker stopping, a failure), only those go: the video and its source
belong to whichever job holds the video's lease now.
"""

import logging
import tempfile
from pathlib import Path

from models import hls, media_file
from services.media.lease import JobAbandoned, LeaseLost

log = logging.getLogger(__name__)


def run(created, prefix, work, *args, failed):
    """``work(folder, *args)`` in a temporary folder: what it returns, or None when it did not
    finish. If the lease of ``created`` (a FilesMade) was lost meanwhile, or the worker
    abandons the job, all it made is deleted; on any other error, ``failed(error)`` says
    what becomes of the video. What those handlers raise goes through."""
    try:
        with tempfile.TemporaryDirectory(prefix=prefix) as folder:
            return work(Path(folder), *args)
    except LeaseLost as lost:
        discard(created)
        lease = created.lease
        # Queued again now rather than a lease later: the worker is stopping, not dead.
        if isinstance(lost, JobAbandoned) and lease.release():
            log.info("%s of %s abandoned: it is queued again", lease.kind.name, lease.video_id)
    except Exception as error:
        failed(error)
    return None


def delete_made(created):
    """Every file and ladder in ``created``; deletes retried while MongoDB is away."""
    media_file.delete(*created)
    hls.delete_ladder(created.lease.video_id, *created.ladders)


def discard(created):
    lease = created.lease
    log.warning("%s of %s stopped: the work done is discarded", lease.kind.name, lease.video_id)
    delete_made(created)
