"""Media cache benchmark (issue 18): the media route against nginx serving the same file.

One synthetic video (200 MB by default, made once and kept, bench/media_servers.py) goes
through ``POST /video/upload`` on gunicorn (repo config) and the embedded database; the bytes
GridFS then holds are written to disk and served by Debian's nginx (sendfile on, its own
config, a free port). gunicorn gets ``MEDIA_CACHE_MB`` and ``MEDIA_CACHE_DIR``; one full GET
warms the cache, then the bench waits until a file of the video's size appears in
``MEDIA_CACHE_DIR`` (or says "cache never filled" and measures the route as it is).
Clients (bench/media_servers.Downloaders: threads in two child processes, 1 MiB reads) download
the whole file again and again for ``--seconds``, nginx and the route interleaved, best of
``--rounds``. Prints (never asserts), in one run:
1. one stream: MiB/s of each, ratio media/nginx (goal >= 0.8x);
2. 20 concurrent streams: MiB/s in all of each, ratio media/nginx (goal >= 0.8x);
3. ``GET /auth/me`` p95 under 50 concurrent warm streams against idle (goal <= 2x).
Rate limits are off (bench.common.Gunicorn), as in bench/stream.py.
Run: .venv/bin/python -m bench.cache [--mb 200] [--seconds 10] [--rounds 3] [--cache-mb 1024]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from pymongo import MongoClient

from bench.common import EmbeddedMongo, Gunicorn, percentile, wait_until_quiet
from bench.media_servers import (
    MIB,
    Downloaders,
    Nginx,
    kept_video,
    require_tools,
    sha256_of_get,
    stored_copy,
)
from bench.stream import auth_me_latencies, media_path, ms

TEMPORARY = ("tmp", "part", "partial")  # a fill in progress, by the usual temp-file names


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="the video's size, MiB")
    parser.add_argument("--seconds", type=int, default=10, help="each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs of each server, 1 and 2")
    parser.add_argument("--streams", type=int, default=20, help="concurrent streams (2)")
    parser.add_argument("--api-streams", type=int, default=50, help="streams under /auth/me")
    parser.add_argument("--cache-mb", type=int, default=1024, help="MEDIA_CACHE_MB (0: off)")
    parser.add_argument("--cache-wait", type=float, default=120, help="seconds, for the fill")
    parser.add_argument("--workers", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument("--threads", type=int, help="default: gunicorn.conf.py's")
    return parser.parse_args()


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


# --- 1 and 2. Throughput: the whole file again and again ---


def figure_throughput(number, clients, targets, count, args):
    runs = {"media": [], "nginx": []}
    for _ in range(args.rounds):  # interleaved: drift in the machine's load hits both
        for name, (port, path) in targets.items():
            runs[name].append(clients.run(port, path, count, args.seconds))
    label = "one stream" if count == 1 else f"{count} concurrent streams"
    print(f"\n{number}. {label}, {args.seconds} s each, best of {args.rounds} (MiB/s in all)")
    best = {}
    for name, results in runs.items():
        best[name] = max(result["mibps"] for result in results)
        rates = ", ".join(f"{result['mibps']:.0f}" for result in results)
        whole = sum(result["whole"] for result in results)
        statuses = status_text(results)
        print(
            f"   {name:6} {best[name]:8.1f} MiB/s  (all: {rates}; whole files: {whole}; {statuses})"
        )
    print(f"   ratio media / nginx: {best['media'] / best['nginx']:.2f}  (goal >= 0.8)")


def status_text(results):
    statuses = {}
    for result in results:
        for status, count in result["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    return "answers: " + ", ".join(
        f"{status} x{count}" for status, count in sorted(statuses.items())
    )


# --- 3. The API under warm streams ---


def figure_api(server, token, clients, target, args):
    auth_me_latencies(server, token, count=10)  # warm-up
    idle = auth_me_latencies(server, token, count=200)
    window = args.seconds + 2
    started = clients.start(*target, args.api_streams, window)
    start_at = started[2]
    time.sleep(max(start_at + 1 - time.time(), 0))  # probe once every stream is under way
    loaded = auth_me_latencies(server, token, until=start_at + window - 0.5)
    result = clients.result(started)
    print(f"\n3. GET /auth/me under {args.api_streams} concurrent streams ({window} s)")
    print(f"   streams: {result['mibps']:.0f} MiB/s in all, {status_text([result])}")
    for name, values in (("idle", idle), ("under load", loaded)):
        print(
            f"   /auth/me {name} ({len(values)}): p50 {ms(statistics.median(values))},"
            f" p95 {ms(percentile(values, 0.95))}"
        )
    ratio = percentile(loaded, 0.95) / percentile(idle, 0.95)
    print(f"   p95 under load / idle p95: {ratio:.1f}  (goal <= 2)")


def server_env(args, cache_dir):
    # Set even when off: the app's development default may be a cache under ./data.
    env = {"MAX_UPLOAD_MB": str(args.mb * 2), "MEDIA_CACHE_MB": str(args.cache_mb)}
    if cache_dir is not None:
        env["MEDIA_CACHE_DIR"] = str(cache_dir)
    return env


def main():
    args = parse_args()
    require_tools()
    started = time.perf_counter()
    video = kept_video(args.mb)
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
        tmp = Path(tmp)
        cache_dir = tmp / "media-cache" if args.cache_mb else None
        if cache_dir is not None:
            cache_dir.mkdir()
        with EmbeddedMongo(tmp / "db", log_path=tmp / "db.log") as mongo:
            uri = mongo.uri("bench")
            env = server_env(args, cache_dir)
            server = Gunicorn(uri, workers=args.workers, extra_env=env, threads=args.threads)
            try:
                with MongoClient(uri) as client:
                    database = client.get_default_database()
                    run(server, mongo.process.pid, database, video, tmp, cache_dir, args)
            finally:
                server.stop()
    print(f"\n(whole run: {time.perf_counter() - started:.0f} s)")


def run(server, db_pid, database, video, tmp, cache_dir, args):
    token = server.token_for("creator")
    video_id, size, digest = stored_copy(server, token, database, video, tmp / "www")
    print(f"video: {size / MIB:.0f} MiB stored, the same bytes on disk for nginx")
    settled, quiet = wait_until_quiet(db_pid, server.process.pid)
    print(f"waited {settled:.0f} s for the database and gunicorn to go idle" + ("" if quiet else
          " (still busy: the figures include that work)"))  # fmt: skip
    path = media_path(server, token, video_id)
    warm(server, path, size, digest, cache_dir, args.cache_wait)
    with Nginx(tmp, tmp / "www") as nginx, Downloaders() as clients:
        targets = {"media": (server.port, path), "nginx": (nginx.port, "/video.mp4")}
        figure_throughput(1, clients, targets, 1, args)
        figure_throughput(2, clients, targets, args.streams, args)
        figure_api(server, token, clients, targets["media"], args)


if __name__ == "__main__":
    main()
