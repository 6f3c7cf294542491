"""The processing worker: ``python worker.py`` (docs/operations.md#processing-workers).

It builds the app (settings, database, logging) but serves no HTTP. Every
``WORKER_POLL_SECONDS`` it claims queued or abandoned videos through their MongoDB
leases, ``PROCESSING_WORKERS`` at a time at most, and processes them as the API's own
pool would (services.media.jobs). Any number of workers, on any number of machines,
share the queue: a claim is one conditional update, so each video has one job.

SIGTERM (or Ctrl-C) stops the claiming; the jobs running get ``--drain-seconds`` to
finish, then the rest are abandoned: their FFmpeg children are killed, the files they
made deleted and their videos handed back to the queue for another worker. A worker that
dies without that (SIGKILL, a crash) leaves leases that run out: another worker takes
those videos after ``PROCESSING_LEASE_SECONDS``.
"""

import argparse
import logging
import signal
import sys
import threading
import time

from app import close_connections, create_app
from models import media_file
from services.media.jobs import SWEEP_SECONDS

log = logging.getLogger("worker")

DRAIN_SECONDS = 25  # below docker-compose's stop_grace_period for the worker (40 s)


class Worker:
    def __init__(self, app):
        self.app = app
        self.jobs = app.extensions["media_jobs"]
        self.poll = app.config["WORKER_POLL_SECONDS"]
        self.stop = threading.Event()
        self._swept_at = None

    def run(self, drain_seconds=DRAIN_SECONDS):
        log.info("worker started: %d job(s) at a time", self.jobs.workers)
        while not self.stop.is_set():
            self._turn()
            self.stop.wait(self.poll)
        self._drain(drain_seconds)

    def _turn(self):
        try:
            self._remove_abandoned_uploads()
            self.jobs.claim_free()
        except Exception:  # the database may be away: the next turn tries again
            log.warning("claiming videos failed", exc_info=True)

    def _remove_abandoned_uploads(self):
        """What the API's sweep does every SWEEP_SECONDS, for uploads a dead process left."""
        now = time.monotonic()
        if self._swept_at is None or now - self._swept_at >= SWEEP_SECONDS:
            self._swept_at = now
            with self.app.app_context():
                media_file.remove_abandoned_uploads()

    def _drain(self, seconds):
        """Let running jobs finish for ``seconds``, then abandon what is left, and wait for it."""
        log.info("worker stopping: no more claims, %d s for the jobs running", seconds)
        deadline = time.monotonic() + seconds
        while self.jobs.busy() and time.monotonic() < deadline:
            time.sleep(0.2)
        self.jobs.stopping.set()  # each job still running kills its child and gives back its video
        self.jobs.executor.shutdown(wait=True)
        log.info("worker stopped")


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=DRAIN_SECONDS,
        help="how long running jobs may go on after SIGTERM before they are abandoned",
    )
    return parser.parse_args(argv)


def main(argv=None):
    arguments = parse_arguments(argv)
    app = create_app(background=False)
    if app.extensions["media_jobs"].workers < 1:
        log.error("PROCESSING_WORKERS must be at least 1 for a worker")
        return 2
    worker = Worker(app)
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda number, frame: worker.stop.set())
    try:
        worker.run(arguments.drain_seconds)
    finally:
        close_connections(app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
