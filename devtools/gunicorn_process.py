"""The production server as a child process: ``gunicorn -c gunicorn.conf.py "app:create_app()"``.

Tests and benchmarks start it on a free port, wait for ``/health``, and stop
the master and every worker whatever happened (they share a process group).
"""

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from devtools.embedded_mongo import free_port

ROOT = Path(__file__).resolve().parent.parent


def gunicorn_command(port, workers=None, extra_args=()):
    """The repo's production command, bound to 127.0.0.1:``port``."""
    command = [str(Path(sys.executable).with_name("gunicorn")), "-c", "gunicorn.conf.py"]
    command += ["--bind", f"127.0.0.1:{port}"]
    if workers:
        command += ["--workers", str(workers)]
    return [*command, *extra_args, "app:create_app()"]


class GunicornProcess:
    """``start()``, ``wait_until_healthy()``, ``stop()``; the log is kept in ``log_path``."""

    def __init__(self, env, log_path, command=None, port=None, cwd=ROOT, workers=None):
        self.port = port or free_port()
        self.command = command or gunicorn_command(self.port, workers)
        self.env, self.log_path, self.cwd = env, Path(log_path), cwd
        self.process = None
        self.workers_outlived_master = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # master and workers: one group to stop
            )
        return self

    def log(self):
        return self.log_path.read_text(errors="replace")

    def health_status(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", "/health")
            return connection.getresponse().status
        finally:
            connection.close()

    def wait_until_healthy(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited {self.process.returncode}:\n{self.log()}")
            with contextlib.suppress(OSError):
                if self.health_status() == 200:
                    return self
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /health within {timeout}s:\n{self.log()}")

    def stop(self, timeout=20):
        """SIGTERM, as ``docker stop`` does (gunicorn stops its workers gracefully), then
        SIGKILL to whatever is left; returns the master's exit code (None if killed).
        ``workers_outlived_master`` says whether a worker was still there seconds after it.
        """
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)
        returncode = self.process.poll()
        self.workers_outlived_master = self._group_alive(for_seconds=5)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(5)
        return returncode

    def _group_alive(self, for_seconds):
        deadline = time.monotonic() + for_seconds
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return False
            time.sleep(0.1)
        return True

    def __enter__(self):
        return self.start().wait_until_healthy()

    def __exit__(self, *exc_info):
        self.stop()
