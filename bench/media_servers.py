"""Shared by bench/cache.py and bench/ranges.py: their set-up, the reference nginx, wrk.

``media_and_nginx`` is the set-up both run: the kept video stored through the app on
gunicorn, the media cache warmed, and the reference beside it: Debian's nginx serving, from
disk with sendfile, the very bytes the app stored in GridFS (exported after processing), on
a free port with its own config (scripts/install_bench_tools.sh installs nginx and wrk).
wrk (C) is the client for many short requests (bench/ranges.py); whole files have their own
(bench/cache.py: wrk reads 8 KiB at a time, below nginx's speed).
"""

import contextlib
import hashlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import gridfs
from pymongo import MongoClient

from bench.common import EmbeddedMongo, Gunicorn, free_port, stream_get, wait_until_quiet
from bench.stream import media_path, upload_ready

MIB = 1024 * 1024
KEPT = Path(tempfile.gettempdir()) / "bench-media"  # synthetic videos, kept between runs
TEMPORARY = ("tmp", "part", "partial")  # a cache fill in progress, by the usual temp-file names


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


# --- The set-up: the video stored through the app, the cache warmed, nginx beside ---


@contextlib.contextmanager
def media_and_nginx(args, prefix, extra_env=None):
    """Yields a namespace (server, token, targets, size, tmp), ``targets`` mapping "media"
    and "nginx" to (port, path): the kept video of ``args.mb`` MiB stored through gunicorn
    (repo config, ``--workers``/``--threads``, MEDIA_CACHE_MB ``args.cache_mb``, ``extra_env``)
    and the embedded database, the cache warmed, nginx serving the same bytes."""
    require_tools()
    started = time.perf_counter()
    video = kept_video(args.mb)
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        tmp = Path(tmp)
        cache_dir = tmp / "media-cache" if args.cache_mb else None
        if cache_dir is not None:
            cache_dir.mkdir()
        env = {**server_env(args, cache_dir), **(extra_env or {})}
        with EmbeddedMongo(tmp / "db", log_path=tmp / "db.log") as mongo:
            uri = mongo.uri("bench")
            server = Gunicorn(uri, workers=args.workers, extra_env=env, threads=args.threads)
            try:
                token, path, size = stored_and_warmed(server, mongo, video, tmp, cache_dir, args)
                with Nginx(tmp, tmp / "www") as nginx:
                    targets = {"media": (server.port, path), "nginx": (nginx.port, "/video.mp4")}
                    yield SimpleNamespace(
                        server=server, token=token, targets=targets, size=size, tmp=tmp
                    )
            finally:
                server.stop()
    print(f"\n(whole run: {time.perf_counter() - started:.0f} s)")


def server_env(args, cache_dir):
    # Set even when off: the app's development default may be a cache under ./data.
    env = {"MAX_UPLOAD_MB": str(args.mb * 2), "MEDIA_CACHE_MB": str(args.cache_mb)}
    if cache_dir is not None:
        env["MEDIA_CACHE_DIR"] = str(cache_dir)
    return env


def stored_and_warmed(server, mongo, video, tmp, cache_dir, args):
    """(token, the route's path, size): the video stored, the machine idle, the cache full."""
    token = server.token_for("creator")
    with MongoClient(mongo.uri("bench")) as client:
        database = client.get_default_database()
        video_id, size, digest = stored_copy(server, token, database, video, tmp / "www")
    print(f"video: {size / MIB:.0f} MiB stored, the same bytes on disk for nginx")
    settled, quiet = wait_until_quiet(mongo.process.pid, server.process.pid)
    print(f"waited {settled:.0f} s for the database and gunicorn to go idle" + ("" if quiet else
          " (still busy: the figures include that work)"))  # fmt: skip
    path = media_path(server, token, video_id)
    warm(server, path, size, digest, cache_dir, args.cache_wait)
    return token, path, size


def warm(server, path, size, digest, cache_dir, timeout):
    """One full GET (its bytes checked against GridFS's), then wait for the cache's copy."""
    if sha256_of_get(server.port, path) != (200, size, digest):
        raise RuntimeError("the media route did not serve the stored bytes")
    if cache_dir is None:
        print("cache: off (--cache-mb 0: MEDIA_CACHE_MB=0)")
        return
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if found := cache_file(cache_dir, size):
            print(f"cache filled {time.monotonic() - start:.1f} s after the warm-up GET: {found}")
            # Served from the copy now (the first use verifies it): the same bytes?
            if sha256_of_get(server.port, path) != (200, size, digest):
                raise RuntimeError("the media route served wrong bytes from the cache")
            return
        time.sleep(0.5)
    print(
        f"cache never filled: no {size}-byte file in MEDIA_CACHE_DIR {timeout:.0f} s after a"
        " full GET; the figures below are the route as it is (GridFS)"
    )


def cache_file(cache_dir, size):
    """A finished copy: a file of the video's size, named (with its folders) unlike a
    temporary one."""
    for path in cache_dir.rglob("*"):
        names = [part.lower() for part in path.relative_to(cache_dir).parts]
        temporary = names[-1].startswith(".") or any(
            mark in name for mark in TEMPORARY for name in names
        )
        if not temporary and path.is_file() and path.stat().st_size == size:
            return path
    return None
