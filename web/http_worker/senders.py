"""The threads that send file bodies (http_worker), at a lower CPU priority than the API's.

A file body goes out with sendfile, and the kernel's copy is charged to the
thread that calls it: 50 fast streams on two cores keep as many threads
runnable, and a thread answering an API request waited its turn among them.
Each worker sends file bodies from a pool of its own, whose threads lowered
their priority once, when they started: the scheduler runs the request
threads and the poller first, and the streams get the CPU they leave. A
thread can lower its own priority but (unprivileged) never raise it back, so
these threads never serve anything else: a request thread answers HANDED,
and the sender pool takes the stream from there (parked, resumed and taking
turns there, as request threads did).
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

HANDED = object()  # a request thread's answer: a sender thread sends this file body
# Nice steps below the request threads: a sender then weighs ~1/10 of one of
# them for the scheduler (+19 did no better in bench/cache.py runs: gunicorn.conf.py).
NICENESS_STEPS = 10
MAX_NICE = 19


def lower_priority():
    """Pool initializer: this thread runs after the process's other threads from now on."""
    tid = threading.get_native_id()
    try:  # PRIO_PROCESS with a thread's id: Linux sets that thread's nice value only
        nice = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(nice + NICENESS_STEPS, MAX_NICE))
    except OSError:  # a sandbox that forbids it: the bodies still go out, unprioritized
        pass


class Senders:
    """The sender pool, and how many streams it holds (sending or queued).

    The worker makes as many senders as threads: a stream holds a sender as it
    held a thread, and the worker's accept gate (busy counts both) is unchanged.
    """

    def __init__(self, count, defer):
        self.count = count
        self.defer = defer  # runs a callback on the worker's poller thread
        self.queued = 0  # changed on the poller thread only
        self.pool = ThreadPoolExecutor(
            count, thread_name_prefix="file-sender", initializer=lower_priority
        )

    def submit(self, function, conn, done):
        """``function(conn)`` on a sender, then ``done(conn, future)`` on the poller thread."""
        self.queued += 1
        future = self.pool.submit(function, conn)
        future.add_done_callback(lambda _: self.defer(self._returned, conn, future, done))

    def _returned(self, conn, future, done):
        self.queued -= 1
        done(conn, future)

    def crowded(self):
        """Whether streams wait for a sender."""
        return self.queued > self.count
