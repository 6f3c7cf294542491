"""A job's discarded work: the GridFS files and HLS ladders it made go, and nothing else.

Processing (services.media.jobs) and the ladder job (services.media.ladder_job) record
each file and ladder they make in a FilesMade. When their work is unwanted (the lease lost
to another job, the worker stopping, a failure), only those go: the video and its source
belong to whichever job holds the video's lease now.
"""

import logging

from models import hls, media_file
from services.media.lease import JobAbandoned

log = logging.getLogger(__name__)


def delete_made(created):
    """Every file and ladder in ``created`` (a FilesMade), deletes retried while MongoDB is away."""
    media_file.delete(*created)
    hls.delete_ladder(created.lease.video_id, *created.ladders)


def discard(created):
    lease = created.lease
    log.warning("%s of %s stopped: the work done is discarded", lease.kind.name, lease.video_id)
    delete_made(created)


def lease_lost(lost, created):
    """The job's lease was lost, or the worker abandons it (``lost``, a LeaseLost): its work
    goes; an abandoned video is queued again now, not a lease later."""
    discard(created)
    lease = created.lease
    if isinstance(lost, JobAbandoned) and lease.release():
        log.info("%s of %s abandoned: it is queued again", lease.kind.name, lease.video_id)
