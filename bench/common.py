"""Shared by the benchmarks: an embedded database, gunicorn with the repo's config, RSS."""

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.embedded_mongo import EmbeddedMongo, free_port  # noqa: E402


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
    def __init__(self, mongodb_uri, workers=1, extra_env=None):
        self.port = free_port()
        env = {
            **os.environ,
            "APP_ENV": "development",
            "MONGODB_URI": mongodb_uri,
            "RATELIMIT_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "-c",
                "gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "app:create_app()",
            ],
            cwd=ROOT,
            env=env,
        )
        self.wait_until_up()

    def wait_until_up(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                status, _ = self.request("GET", "/health")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not come up")

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
        self.process.terminate()
        self.process.wait(30)


__all__ = ["EmbeddedMongo", "Gunicorn", "PeakSampler", "tree_rss"]
