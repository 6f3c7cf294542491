"""Shared by the benchmarks: an embedded database, gunicorn with the repo's config, RSS."""

import contextlib
import http.client
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.embedded_mongo import EmbeddedMongo, free_port  # noqa: E402
from devtools.gunicorn_process import GunicornProcess, gunicorn_command  # noqa: E402


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def tree_rss(pid):
    """RSS of a process and its children (gunicorn master + workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return rss_bytes(pid) + sum(tree_rss(int(child)) for child in children)


def cpu_seconds(pid):
    """CPU time (user + system) used so far by a process and its children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return own + sum(cpu_seconds(int(child)) for child in children)


def wait_until_quiet(*pids, busy=0.05, timeout=120):
    """Wait until ``pids`` use less than ``busy`` of a CPU over a second:
    (seconds waited, whether they went quiet before ``timeout``).

    After a large upload the database keeps working (flushing what it was
    given) for a while: a measurement taken then measures that too.
    """
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        before = sum(cpu_seconds(pid) for pid in pids)
        time.sleep(1)
        if sum(cpu_seconds(pid) for pid in pids) - before < busy:
            return time.monotonic() - start, True
    return time.monotonic() - start, False


class PeakSampler:
    """Samples a process tree's RSS every few milliseconds; ``peak`` is the highest seen."""

    def __init__(self, pid, interval=0.01):
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


class Gunicorn:
    """The repo's gunicorn (devtools.gunicorn_process) plus the requests a benchmark makes.

    ``workers``/``threads`` None keep gunicorn.conf.py's own values; its log goes to
    ``gunicorn-<port>.log`` in the temporary directory, so a benchmark's output stays its
    figures. ``wait=False`` returns at once: the caller waits for /health (a start-up
    that may outlast ``wait_until_healthy``'s 60 s).
    """

    def __init__(self, mongodb_uri, workers=1, extra_env=None, threads=None, wait=True):
        env = {
            **os.environ,
            "APP_ENV": "development",
            "MONGODB_URI": mongodb_uri,
            "RATELIMIT_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        port = free_port()
        extra = ["--threads", str(threads)] if threads is not None else []
        log_path = Path(tempfile.gettempdir()) / f"gunicorn-{port}.log"
        self.server = GunicornProcess(
            env, log_path, command=gunicorn_command(port, workers, extra), port=port
        )
        self.port = port
        self.server.start()
        if wait:
            self.server.wait_until_healthy()
        self.process = self.server.process

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        payload = json.dumps(body).encode() if isinstance(body, dict) else body
        all_headers = {"Content-Type": "application/json"} if isinstance(body, dict) else {}
        all_headers.update(headers or {})
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, data

    def token_for(self, role="creator"):
        email = f"bench-{role}-{time.time_ns()}@example.com"
        body = {"name": "Bench", "email": email, "password": "bench-password", "role": role}
        self.request("POST", "/auth/signup", body)
        _, data = self.request(
            "POST", "/auth/login", {"email": email, "password": "bench-password"}
        )
        return json.loads(data)["token"]

    def stop(self):
        self.server.stop(timeout=30)


def stream_get(port, path, headers=None, deadline=None, block=256 * 1024):
    """GET ``path`` and discard the body ``block`` bytes at a time; (status, bytes, seconds).

    readinto one reused buffer: the client holds 256 KiB, whatever the size of
    the body. With ``deadline`` (time.time()) it hangs up when the time is out.
    """
    buffer = memoryview(bytearray(block))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    start = time.perf_counter()
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        received = 0
        while deadline is None or time.time() < deadline:
            count = response.readinto(buffer)
            if not count:
                break
            received += count
    finally:
        connection.close()
    return response.status, received, time.perf_counter() - start


def percentile(values, fraction):
    """The nearest-rank percentile: the smallest value with ``fraction`` of all at or below it."""
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


__all__ = [
    "EmbeddedMongo",
    "Gunicorn",
    "PeakSampler",
    "cpu_seconds",
    "percentile",
    "stream_get",
    "tree_rss",
    "wait_until_quiet",
]


def log_problems(server, limit=15):
    """Print a Gunicorn's log warnings and errors, and its access lines >= 400 by route."""
    print("\nserver side:")
    import re
    from collections import Counter

    lines = [json.loads(x) for x in server.server.log().splitlines() if x.startswith("{")]
    routes = Counter(
        (re.sub(r"[0-9a-f]{24}", "{id}", line["path"]), line["status"])
        for line in lines
        if line.get("logger") == "access" and line.get("status", 0) >= 400
    )
    for (path, status), count in routes.most_common(limit):
        print(f"   access log: {status} {path} x{count}")
    for line in [x for x in lines if x.get("level") in ("WARNING", "ERROR")][:limit]:
        print(f"   log: {line['level']} {line['logger']}: {line['message'][:300]}")
    print(f"   (whole log: {server.server.log_path})")


def tree_pids(pid):
    """``pid`` and its descendants, whichever of its threads started them: tree_rss reads
    only the main thread's ``children``, and worker.py starts its jobs' children from a
    thread pool. A process that exits meanwhile may be listed (tree_now leaves it out)."""
    found = [pid]
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [p for child in children.read_text().split() for p in tree_pids(int(child))]
    return found


class Worker:
    """``python worker.py`` with a Gunicorn's environment (same database and settings) plus
    ``extra_env``; its log goes to ``worker-<port>.log`` in the temporary directory."""

    def __init__(self, server, extra_env=None):
        # INFO: wait_until_started reads the worker's start line.
        env = {**server.server.env, "LOG_LEVEL": "INFO", **(extra_env or {})}
        self.log_path = Path(tempfile.gettempdir()) / f"worker-{server.port}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "worker.py"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def wait_until_started(self, timeout=60):
        """Until its log says it claims videos (worker.py logs "worker started")."""
        deadline = time.monotonic() + timeout
        while "worker started" not in self.log_path.read_text(errors="replace"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker.py did not start:\n{self.log_path.read_text()}")
            time.sleep(0.2)

    def stop(self, timeout=60):
        """SIGTERM, as docker stop does (running jobs drain), then SIGKILL after ``timeout``."""
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


TICK = os.sysconf("SC_CLK_TCK")


def cpu_split(pid):
    """(own CPU seconds, CPU seconds of its children already reaped) of ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own, reaped = fields[11:13], fields[13:15]
    return sum(map(int, own)) / TICK, sum(map(int, reaped)) / TICK


def tree_now(pid):
    """{pid: (RSS, own CPU seconds)} of ``pid``'s tree; processes gone meanwhile left out."""
    found = {}
    for member in tree_pids(pid):
        try:
            found[member] = (rss_bytes(member), cpu_split(member)[0])
        except OSError:
            continue
    return found


class TreeSampler(PeakSampler):
    """PeakSampler of the whole tree (tree_pids), keeping the peak of each ``phase`` (set by
    the caller) with each process's share, and per process when it was seen (seconds since
    ``origin``), its peak RSS and its last CPU time."""

    def __init__(self, pid, interval=0.1):
        super().__init__(pid, interval)
        self.phase, self.origin = "idle", time.perf_counter()
        self.peaks, self.seen = {}, {}

    def _run(self):
        while not self._stop.is_set():
            self._sample()
            time.sleep(self.interval)

    def _sample(self):
        now, members = time.perf_counter() - self.origin, tree_now(self.pid)
        total = sum(rss for rss, _ in members.values())
        if total > self.peaks.get(self.phase, (0, {}))[0]:
            self.peaks[self.phase] = (total, {pid: rss for pid, (rss, _) in members.items()})
        for pid, (rss, cpu) in members.items():
            record = self.seen.setdefault(pid, {"first": now, "rss": 0})
            record.update(last=now, cpu=cpu, rss=max(record["rss"], rss))


def timed_get(port, path, headers=None):
    """(status, body bytes, seconds to the response's head, seconds to its last byte)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    began = time.perf_counter()
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        head = time.perf_counter() - began
        size = sum(len(block) for block in iter(lambda: response.read(256 * 1024), b""))
    finally:
        connection.close()
    return response.status, size, head, time.perf_counter() - began
