"""The processing lease of one video, held by one job and kept alive by a heartbeat.

A job claims the video with an owner token no other claim shares; a heartbeat thread
renews the lease every quarter of its length while the job runs, so a long transcode
is never taken for abandoned. If the lease is lost anyway (the process stalled past
it and the sweep gave the video to another job), the heartbeat notices and says so,
and the job's outcome is refused: only the holder's conditional update can finish
the video.
"""

import logging
import secrets
import threading
from contextlib import contextmanager

from models import ladder_jobs
from models import video as videos

log = logging.getLogger(__name__)

HEARTBEATS_PER_LEASE = 4  # three renewals can fail (the database away) before it runs out


class JobKind:
    """Which lease a job holds: the lease functions of the model that keeps it, looked up
    by name at each call (a test's spy on the model's function is heard)."""

    def __init__(self, name, model, **functions):
        self.name, self.model, self.functions = name, model, functions

    def __getattr__(self, verb):
        if verb not in self.__dict__.get("functions", {}):
            raise AttributeError(verb)
        return getattr(self.model, self.functions[verb])


# The two kinds of job on a video, each with its own lease fields and the same rules:
# processing an upload (``status`` processing, ``lease_*``), and making the HLS ladder of a
# video already ready (``hls_job.*``, models.ladder_jobs).
PROCESSING = JobKind(
    "processing",
    videos,
    claim="claim_for_processing",
    renew="renew_lease",
    release="release_lease",
    report="report_progress",
    finish="finish_processing",
)
LADDER = JobKind(
    "ladder",
    ladder_jobs,
    claim="claim",
    renew="renew",
    release="release",
    report="report_progress",
    finish="finish",
)


class LeaseLost(Exception):
    """The job no longer holds its video's lease: it stops and discards what it made."""


class JobAbandoned(LeaseLost):
    """Its process is stopping (worker.py on SIGTERM): the job discards what it made and
    gives the lease back, so another worker starts the video at once."""


class Lease:
    def __init__(self, app, video_id, seconds, stopping=None, kind=PROCESSING):
        self.app = app
        self.video_id = video_id
        self.kind = kind
        self.length = videos.lease_length(seconds)
        self.interval = seconds / HEARTBEATS_PER_LEASE
        self.owner = secrets.token_hex(16)
        self.lost = threading.Event()
        self.stopping = stopping or threading.Event()  # shared by the process's jobs

    def claim(self):
        """True when this job now holds the video; call in an app context."""
        return self.kind.claim(self.video_id, self.length, self.owner)

    def should_stop(self):
        """Whether the work in progress is wasted (lost) or unwanted (stopping): the sandbox
        asks while its child runs, and kills it."""
        return self.lost.is_set() or self.stopping.is_set()

    def check(self):
        """Renew now; LeaseLost if the heartbeat or this renewal found the lease taken,
        JobAbandoned if the process is stopping."""
        if self.stopping.is_set():
            raise JobAbandoned(f"{self.kind.name} of {self.video_id} abandoned: the worker stops")
        if self.lost.is_set() or not self._renew():
            self.lost.set()
            raise LeaseLost(f"the {self.kind.name} lease of {self.video_id} was lost")

    def report(self, stage, progress):
        """Record how far the job got; a failed write costs nothing but this report."""
        try:
            if not self.kind.report(self.video_id, self.owner, stage, progress):
                self.lost.set()
        except Exception:  # the database may be away: the lease heartbeat decides
            log.warning("reporting the progress of %s failed", self.video_id, exc_info=True)

    def release(self):
        """Give the video back to the queue (JobAbandoned); False if it was not ours."""
        return self.kind.release(self.video_id, self.owner)

    def finish(self, **fields):
        """Record the outcome if the lease is still ours; False (nothing written) if not."""
        if self.kind.finish(self.video_id, self.owner, **fields):
            return True
        self.lost.set()
        return False

    @contextmanager
    def kept_alive(self):
        """Renew the lease in the background for as long as the block runs."""
        stop = threading.Event()
        heartbeat = threading.Thread(
            target=self._beat, args=(stop,), name=f"lease-{self.video_id}", daemon=True
        )
        heartbeat.start()
        try:
            yield self
        finally:
            stop.set()
            heartbeat.join()

    def _beat(self, stop):
        with self.app.app_context():
            while not stop.wait(self.interval):
                if not self._renew():
                    log.warning("%s lease of %s was lost", self.kind.name, self.video_id)
                    self.lost.set()
                    return

    def _renew(self):
        """False only when the lease is known to be someone else's now."""
        try:
            return self.kind.renew(self.video_id, self.length, self.owner)
        except Exception:  # the database may be away: the next beat tries again
            log.warning("renewing the lease of %s failed", self.video_id, exc_info=True)
            return True


class FilesMade(list):
    """The GridFS files a job made, to delete if its work is discarded, and the HLS ladders
    it started (``ladders``: each one's segments and key go with it, by its id).

    Recording a file is also a checkpoint between steps: a job that lost its lease stops
    there (LeaseLost, the file just made already recorded) instead of going on to
    transcode or store more for a video that is no longer its own.
    """

    def __init__(self, lease):
        super().__init__()
        self.lease = lease
        self.ladders = []

    def append(self, file_id):
        super().append(file_id)
        self.lease.check()
