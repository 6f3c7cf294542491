"""A background sweep: work that a process repeats every few seconds while it runs.

Jobs kept under leases (video processing, account deletion) each have one: it finds the jobs
whose process died (their lease ran out) and starts them again here.
"""

import logging
import threading

log = logging.getLogger(__name__)


class Sweeper:
    """Calls ``sweep()`` every ``seconds`` on a daemon thread named ``name``, until stopped.

    A sweep that fails (the database away) is logged and tried again at the next turn.
    """

    def __init__(self, name, seconds, sweep):
        self.name, self.seconds, self.sweep = name, seconds, sweep
        self._stopped = threading.Event()
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self):
        """Before the database client closes: a sweep after it would only log a failure."""
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=10)  # a sweep waits at most the driver timeouts

    def _loop(self):
        while not self._stopped.wait(self.seconds):
            try:
                self.sweep()
            except Exception:  # the database may be away; try again later
                log.warning("%s failed", self.name, exc_info=True)
