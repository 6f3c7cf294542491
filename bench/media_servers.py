"""Shared by bench/cache.py and bench/ranges.py: the reference nginx, wrk, the kept video.

The reference is Debian's nginx serving, from disk with sendfile, the very bytes the app
stored in GridFS (exported after processing), on a free port with its own config
(scripts/install_bench_tools.sh installs nginx and wrk). Two clients:
- wrk (C) for many short requests (bench/ranges.py);
- for whole files, Python threads in two child processes reading 1 MiB at a time: wrk reads
  8 KiB at a time, which caps it below nginx's speed (measured here, one stream of a
  20 MB file: wrk 560 MiB/s, 1 MiB reads 1,200 MiB/s; 20 streams: 930 and 2,000).
"""

import contextlib
import hashlib
import json
import multiprocessing
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import gridfs

from bench.common import free_port, stream_get
from bench.stream import upload_ready

MIB = 1024 * 1024
KEPT = Path(tempfile.gettempdir()) / "bench-media"  # synthetic videos, kept between runs


def require_tools():
    """Stop with a message naming the missing tool (the benchmark cannot run without it)."""
    missing = [name for name in ("wrk", "nginx") if not tool(name)]
    if missing:
        raise SystemExit(f"missing {', '.join(missing)}: run scripts/install_bench_tools.sh")


def tool(name):
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def kept_video(megabytes):
    """A synthetic H.264 MP4 of about ``megabytes`` MiB, made once and kept under KEPT:
    encoding 200 MB of noise costs more than a short run's measurements."""
    from demo.synthetic_media import write_noise_video  # PyAV: only when one is made

    path = KEPT / f"noise-{megabytes}.mp4"
    if not path.exists():
        KEPT.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part.mp4")  # an interrupted run leaves no short video
        write_noise_video(partial, megabytes)
        partial.rename(path)
    return path


def stored_copy(server, token, database, video, www):
    """Upload ``video`` through the app, wait until ready, and write the bytes GridFS holds
    to ``www``/video.mp4: (video id, size, sha256)."""
    video_id, file_id, size = upload_ready(server, token, database, video)
    www.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with open(www / "video.mp4", "wb") as out:
        source = gridfs.GridFSBucket(database).open_download_stream(file_id)
        while block := source.read(4 * MIB):
            digest.update(block)
            out.write(block)
    return video_id, size, digest.hexdigest()


def sha256_of_get(port, path, headers=None):
    """(status, size, sha256) of a GET's body, read 1 MiB at a time."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    digest, size = hashlib.sha256(), 0
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        while block := response.read(MIB):
            digest.update(block)
            size += len(block)
    finally:
        connection.close()
    return response.status, size, digest.hexdigest()


NGINX_CONF = """\
user {user};
worker_processes auto;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    types {{ video/mp4 mp4; }}
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {www};
        location / {{ }}
    }}
}}
"""


class Nginx:
    """Debian's nginx on a free port, serving ``www`` (sendfile on), in its own prefix."""

    def __init__(self, base, www):
        self.prefix, self.www, self.port = base / "nginx", www, free_port()
        self.process = None

    def __enter__(self):
        self.prefix.mkdir(parents=True, exist_ok=True)
        config = self.prefix / "nginx.conf"
        user = pwd.getpwuid(os.getuid()).pw_name  # its workers must read the temp dir
        text = NGINX_CONF.format(user=user, prefix=self.prefix, port=self.port, www=self.www)
        config.write_text(text)
        command = [tool("nginx"), "-p", str(self.prefix), "-c", str(config), "-e", "stderr"]
        with open(self.prefix / "stderr.log", "wb") as log:
            self.process = subprocess.Popen(
                [*command, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=log
            )
        deadline = time.monotonic() + 10
        while stream_get_status(self.port) != 206:  # bytes=0-1 of the video
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start: {self.log()}")
            time.sleep(0.1)
        return self

    def log(self):
        return (self.prefix / "stderr.log").read_text(errors="replace")

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def stream_get_status(port):
    with contextlib.suppress(OSError):
        return stream_get(port, "/video.mp4", headers={"Range": "bytes=0-1"})[0]
    return None


# --- wrk: a Lua done() hook prints the figures as one JSON line ---

DONE_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests": %.0f, "bytes": %.0f, "duration_us": %.0f, '
    .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, '
    .. '"p50_us": %.0f, "p95_us": %.0f}\\n', summary.requests, summary.bytes,
    summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95)))
end
"""


def wrk_command(url, connections, seconds, script):
    """wrk's own timeout (2 s by default) would count every long download as an error."""
    threads = str(min(connections, 2))
    return ["wrk", "-t", threads, "-c", str(connections), "-d", f"{seconds}s", "--timeout",
            "600s", "-s", str(script), url]  # fmt: skip


def write_script(directory, name, body=""):
    path = Path(directory) / name
    path.write_text(body + DONE_LUA)
    return path


def wrk_result(output):
    """The done() hook's figures, plus MiB/s and requests/s."""
    line = next(x for x in output.splitlines() if x.startswith("WRK_JSON "))
    result = json.loads(line.removeprefix("WRK_JSON "))
    seconds = result["duration_us"] / 1e6
    result["mibps"] = result["bytes"] / MIB / seconds
    result["rps"] = result["requests"] / seconds
    keys = ("connect", "read", "write", "status", "timeout")
    result["errors"] = {key: result[key] for key in keys if result[key]}
    return result


def run_wrk(url, connections, seconds, script):
    command = wrk_command(url, connections, seconds, script)
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return wrk_result(done.stdout)


def errors_text(result):
    return ", ".join(f"{k} {v}" for k, v in result["errors"].items()) or "none"


# --- Whole files: Python threads in two child processes ---


def download_for(port, path, count, start_at, until):
    """``count`` clients GET ``path`` again and again from ``start_at`` to ``until``
    (time.time()): (bytes received, {status: responses}, whole files)."""
    received, statuses, whole = [0] * count, Counter(), [0] * count

    def client(index):
        time.sleep(max(start_at - time.time(), 0))
        while time.time() < until:
            status, size, _ = stream_get(port, path, deadline=until, block=MIB)
            received[index] += size
            statuses[status] += 1
            whole[index] += time.time() < until  # cut by the deadline: not whole

    threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(received), statuses, sum(whole)


class Downloaders:
    """Two spawned processes (one per core here) that share the clients of each run: a
    process of the bench's own would add its GIL to the API probes it makes meanwhile."""

    def __init__(self):
        spawn = multiprocessing.get_context("spawn")  # no fork of a process with threads
        self.pool = ProcessPoolExecutor(2, mp_context=spawn)

    def __enter__(self):
        for future in [self.pool.submit(int) for _ in range(2)]:
            future.result()  # both processes up before any timed window
        return self

    def __exit__(self, *exc):
        self.pool.shutdown()

    def start(self, port, path, count, seconds):
        """Starts ``count`` clients for ``seconds`` from 0.5 s on; ``result`` waits for them."""
        start_at = time.time() + 0.5
        until = start_at + seconds
        shares = [count // 2 + count % 2, count // 2]
        futures = [
            self.pool.submit(download_for, port, path, share, start_at, until)
            for share in shares
            if share
        ]
        return futures, seconds, start_at

    @staticmethod
    def result(started):
        """{mibps, statuses, whole} of a run begun with ``start``."""
        futures, seconds, _ = started
        parts = [future.result() for future in futures]
        statuses = sum((part[1] for part in parts), Counter())
        received = sum(part[0] for part in parts)
        return {
            "mibps": received / MIB / seconds,
            "statuses": dict(statuses),
            "whole": sum(part[2] for part in parts),
        }

    def run(self, port, path, count, seconds):
        return self.result(self.start(port, path, count, seconds))
