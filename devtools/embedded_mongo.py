"""Start and stop the embedded MongoDB-wire-protocol server (SecantusDB).

SecantusDB is GPL-2.0 and a beta, so it runs as its own process and is never
imported: this module only launches ``secantusd-py`` and waits until it
answers a ping. ``make run`` and the test suite both use it.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

STARTUP_TIMEOUT_SECONDS = 60


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_command():
    """``secantusd-py`` from this interpreter's environment, else from PATH."""
    beside = Path(sys.executable).with_name("secantusd-py")
    if beside.exists():
        return str(beside)
    found = shutil.which("secantusd-py")
    if not found:
        raise RuntimeError("secantusd-py not found: install the dev requirements (make install)")
    return found


class EmbeddedMongo:
    """One SecantusDB process: ``start()``, ``uri(database)``, ``stop()``."""

    def __init__(self, storage_path, port=None, host="127.0.0.1", log_path=None):
        self.storage_path = Path(storage_path)
        self.host = host
        self.port = port or free_port()
        self.log_path = Path(log_path) if log_path else self.storage_path.parent / "secantusd.log"
        self.process = None

    def uri(self, database="video_app"):
        return f"mongodb://{self.host}:{self.port}/{database}"

    def start(self):
        self.storage_path.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        self.process = subprocess.Popen(
            [
                server_command(),
                "--host",
                self.host,
                "--port",
                str(self.port),
                "--storage-path",
                str(self.storage_path),
                "--sync-on-commit",
                "--log-level",
                "WARNING",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            # Its own session: Ctrl-C reaches us, and we stop it in order.
            start_new_session=True,
        )
        log_file.close()
        self.wait_until_answering()
        return self

    def wait_until_answering(self, timeout=STARTUP_TIMEOUT_SECONDS):
        deadline = time.monotonic() + timeout
        client = MongoClient(self.uri(), serverSelectionTimeoutMS=500)
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"secantusd-py exited with {self.process.returncode}; see {self.log_path}"
                    )
                try:
                    client.admin.command("ping")
                    return
                except PyMongoError:
                    time.sleep(0.2)
        finally:
            client.close()
        self.stop()
        raise RuntimeError(f"secantusd-py did not answer within {timeout}s; see {self.log_path}")

    def stop(self, timeout=20):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self):
        """Stop it hard, as a crash would (fault tests)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
