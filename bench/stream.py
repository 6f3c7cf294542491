"""Playback benchmark: GET /video/{id}/media on gunicorn (repo config) and the embedded database.

Prints (never asserts), in one run:
1. a full download through the media route vs. reading the same GridFS file
   with pymongo (target: ratio >= 0.8);
2. the last MiB of a large video vs. the first MiB, median of N requests
   (target: ratio <= 1.5);
3. the server's RSS increase during concurrent full streams (target: < 100 MB);
4. per-stream throughput of many concurrent streams over a fixed window, and
   GET /auth/me latency meanwhile (targets: no stream below 0.25 of the fair
   share; p95 under load <= 5x idle p95).
Run: .venv/bin/python -m bench.stream [--small] [--workers N] [--threads N]
"""

import argparse
import json
import multiprocessing
import runpy
import statistics
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

import gridfs
from pymongo import MongoClient

from bench.common import (
    ROOT,
    EmbeddedMongo,
    Gunicorn,
    PeakSampler,
    percentile,
    stream_get,
    tree_rss,
    wait_until_quiet,
)
from bench.upload import multipart_upload

MIB = 1024 * 1024
BLOCK = 256 * 1024


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="20/50 MB videos, 8 s window")
    parser.add_argument("--stream-mb", type=int, help="video for 1, 3, 4 (default 200)")
    parser.add_argument("--range-mb", type=int, help="video for 2 (default 500)")
    parser.add_argument("--requests", type=int, default=20, help="range requests of each kind")
    parser.add_argument("--streams", type=int, default=20, help="concurrent full streams (3)")
    parser.add_argument("--fair-streams", type=int, default=50, help="concurrent streams (4)")
    parser.add_argument("--window", type=float, help="seconds of figure 4 (default 15)")
    parser.add_argument("--workers", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument("--threads", type=int, help="default: gunicorn.conf.py's")
    args = parser.parse_args()
    small = (20, 50, 8.0) if args.small else (200, 500, 15.0)
    args.stream_mb = args.stream_mb or small[0]
    args.range_mb = args.range_mb or small[1]
    args.window = args.window or small[2]
    return args


# --- Getting the videos in: the real upload route, then its processing ---


def upload_ready(server, token, database, path):
    """Upload ``path``, wait until it is ready; (video id, GridFS file id, size)."""
    status, _ = multipart_upload(server.port, token, path)
    if status != 202:
        raise RuntimeError(f"upload of {path.name}: {status}")
    # multipart_upload drops the body; the file name is unique in this database.
    video = database.videos.find_one({"original_filename": path.name})
    video_id = str(video["_id"])
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        _, body = server.request("GET", f"/video/{video_id}/status", headers=bearer(token))
        state = json.loads(body)
        if state["status"] == "ready":
            break
        if state["status"] == "failed":
            raise RuntimeError(f"{path.name} failed: {state.get('failure_reason')}")
        time.sleep(0.5)
    else:
        raise RuntimeError(f"{path.name} not ready after 600 s")
    video = database.videos.find_one({"_id": video["_id"]})
    file_id = video["media_file_id"]
    return video_id, file_id, database.fs.files.find_one({"_id": file_id})["length"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def media_path(server, token, video_id):
    url = f"/video/{video_id}/playback-token"
    status, body = server.request("POST", url, headers=bearer(token))
    if status != 200:
        raise RuntimeError(f"playback-token: {status} {body[:200]!r}")
    return f"/video/{video_id}/media?token={json.loads(body)['playback_token']}"


# --- 1. Full download vs. direct GridFS read ---


def direct_read_seconds(database, file_id):
    stream = gridfs.GridFSBucket(database).open_download_stream(file_id)
    start = time.perf_counter()
    while stream.read(BLOCK):
        pass
    return time.perf_counter() - start


def route_seconds(port, path, size):
    status, received, seconds = stream_get(port, path)
    if (status, received) != (200, size):
        raise RuntimeError(f"full download: {status}, {received} of {size} bytes")
    return seconds


def figure_throughput(server, database, path, file_id, size, rounds=3):
    """Alternate the two, best of ``rounds`` each: other work on the machine adds noise."""
    route, direct = [], []
    for _ in range(rounds):
        route.append(route_seconds(server.port, path, size))
        direct.append(direct_read_seconds(database, file_id))
    route_mbps, direct_mbps = size / MIB / min(route), size / MIB / min(direct)
    print(f"\n1. full download of {size / MIB:.0f} MiB (best of {rounds})")
    print(f"   media route:          {route_mbps:7.1f} MiB/s  (all: {fmt_rates(size, route)})")
    print(f"   GridFS direct read:   {direct_mbps:7.1f} MiB/s  (all: {fmt_rates(size, direct)})")
    print(f"   ratio route / direct: {route_mbps / direct_mbps:.2f}  (target >= 0.8)")


def fmt_rates(size, seconds):
    return ", ".join(f"{size / MIB / s:.0f}" for s in seconds)


# --- 2. Last MiB vs. first MiB of the large video ---


def range_seconds(port, path, spec):
    status, received, seconds = stream_get(port, path, headers={"Range": f"bytes={spec}"})
    if (status, received) != (206, MIB):
        raise RuntimeError(f"Range {spec}: {status}, {received} bytes")
    return seconds


def figure_ranges(server, path, size, requests):
    first, last = f"0-{MIB - 1}", f"-{MIB}"
    for _ in range(3):  # warm-up: connections, caches, the token check's queries
        range_seconds(server.port, path, first)
        range_seconds(server.port, path, last)
    timings = {first: [], last: []}
    for _ in range(requests):  # interleaved, so drift in the machine's load hits both
        for spec in timings:
            timings[spec].append(range_seconds(server.port, path, spec))
    head, tail = statistics.median(timings[first]), statistics.median(timings[last])
    print(f"\n2. 1 MiB ranges of a {size / MIB:.0f} MiB video (median of {requests})")
    print(f"   first MiB (bytes={first}): {head * 1000:7.1f} ms")
    print(f"   last MiB  (bytes={last}):  {tail * 1000:7.1f} ms")
    print(f"   ratio last / first: {tail / head:.2f}  (target <= 1.5)")


# --- Concurrent clients: threads in a child process ---
# The readers run in their own process so that their GIL does not delay the
# /auth/me probe of figure 4, which runs in this one.


def run_streams(port, path, count, start_at=None, until=None, headers=None):
    """``count`` concurrent GETs of ``path``; [(status, bytes, seconds)] per client.

    With ``until`` (time.time()) each client starts at ``start_at``, downloads
    again whenever it finishes, and hangs up at ``until``.
    """
    results = [None] * count

    def client(index):
        if until is None:
            results[index] = stream_get(port, path, headers)
            return
        time.sleep(max(start_at - time.time(), 0))
        status, total = None, 0
        while time.time() < until:
            status, received, _ = stream_get(port, path, headers, deadline=until)
            total += received
        results[index] = (status, total, until - start_at)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def figure_memory(server, db_pid, pool, path, size, count):
    # Warm-up: as many concurrent (short) requests, so that every worker has
    # imported, connected and started its threads before the baseline.
    warm = {"Range": f"bytes=0-{8 * MIB - 1}"}
    pool.submit(run_streams, server.port, path, count, headers=warm).result()
    time.sleep(2)
    before, db_before = tree_rss(server.process.pid), tree_rss(db_pid)
    # The database's RSS too (no target): a cursor may hold its results there.
    with PeakSampler(server.process.pid) as sampler, PeakSampler(db_pid) as db_sampler:
        start = time.perf_counter()
        results = pool.submit(run_streams, server.port, path, count).result()
        seconds = time.perf_counter() - start
    complete = sum(1 for status, received, _ in results if (status, received) == (200, size))
    print(f"\n3. {count} concurrent full streams of {size / MIB:.0f} MiB")
    received_in_all = sum(received for _, received, _ in results)  # what actually arrived
    print(f"   complete: {complete}/{count}, {received_in_all / MIB / seconds:.0f} MiB/s in all")
    print(
        f"   server RSS after warm-up {before / MIB:.1f} MiB, peak {sampler.peak / MIB:.1f} MiB,"
        f" increase {(sampler.peak - before) / MIB:.1f} MiB  (target < 100)"
    )
    print(
        f"   (database process RSS {db_before / MIB:.0f} MiB, peak {db_sampler.peak / MIB:.0f} MiB:"
        " not the app server's, no target)"
    )


# --- 4. Fairness between streams, and the API's latency under them ---


def auth_me_latencies(server, token, count=None, until=None):
    """Sequential GET /auth/me on fresh connections: ``count`` of them, or until ``until``."""
    seconds = []
    while (count is not None and len(seconds) < count) or (until and time.time() < until):
        start = time.perf_counter()
        status, _ = server.request("GET", "/auth/me", headers=bearer(token))
        seconds.append(time.perf_counter() - start)
        if status != 200:
            raise RuntimeError(f"/auth/me: {status}")
    return seconds


def figure_fairness(server, pool, path, token, count, window):
    auth_me_latencies(server, token, count=10)  # warm-up
    idle = auth_me_latencies(server, token, count=200)
    start_at = time.time() + 1  # the child process is already up: 1 s is ample
    until = start_at + window
    streams = pool.submit(run_streams, server.port, path, count, start_at, until)
    time.sleep(max(start_at + 1 - time.time(), 0))  # probe once every stream is under way
    loaded = auth_me_latencies(server, token, until=until - 0.5)
    results = streams.result()
    rates = sorted(received / MIB / seconds for _, received, seconds in results)
    fair = sum(rates) / count
    print(f"\n4. {count} concurrent streams for {window:.0f} s, GET /auth/me meanwhile")
    print(f"   per-stream MiB/s (sorted): {' '.join(f'{r:.1f}' for r in rates)}")
    print(f"   total {sum(rates):.0f} MiB/s, fair share {fair:.2f} MiB/s")
    print(
        f"   slowest stream: {rates[0] / fair:.2f} of the fair share,"
        f" {sum(r < 0.25 * fair for r in rates)} below 0.25  (target: none below 0.25)"
    )
    print(
        f"   /auth/me idle ({len(idle)}): p50 {ms(statistics.median(idle))},"
        f" p95 {ms(percentile(idle, 0.95))}"
    )
    print(
        f"   /auth/me under load ({len(loaded)}): p50 {ms(statistics.median(loaded))},"
        f" p95 {ms(percentile(loaded, 0.95))}, max {ms(max(loaded))}"
    )
    ratio = percentile(loaded, 0.95) / percentile(idle, 0.95)
    print(f"   p95 under load / idle p95: {ratio:.1f}  (target <= 5)")
    inside = server_durations(server, "/auth/me", since=start_at + 1)
    if inside:
        print(
            f"   of which inside the app (access log, {len(inside)}):"
            f" p50 {statistics.median(inside):.1f} ms, p95 {percentile(inside, 0.95):.1f} ms"
        )


def server_durations(server, path, since):
    """``duration_ms`` of the access lines for ``path`` logged after ``since`` (time.time())."""
    found = []
    for line in server.server.log().splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        if entry.get("path") == path and entry.get("logger") == "access":
            logged = datetime.fromisoformat(entry["time"]).timestamp()
            if logged >= since:
                found.append(entry["duration_ms"])
    return found


def ms(seconds):
    return f"{seconds * 1000:.1f} ms"


def make_videos(tmp, args):
    from demo.synthetic_media import write_noise_video  # PyAV: not needed by the clients

    stream_video = write_noise_video(tmp / f"stream-{args.stream_mb}.mp4", args.stream_mb)
    range_video = write_noise_video(tmp / f"range-{args.range_mb}.mp4", args.range_mb)
    return stream_video, range_video


def main():
    args = parse_args()
    started = time.perf_counter()
    spawn = multiprocessing.get_context("spawn")  # no fork of a process with threads
    with (
        tempfile.TemporaryDirectory(prefix="bench-stream-") as tmp,
        ProcessPoolExecutor(1, mp_context=spawn) as pool,
    ):
        pool.submit(int).result()  # start the client process now, not inside a timed window
        tmp = Path(tmp)
        stream_video, range_video = make_videos(tmp, args)
        with EmbeddedMongo(tmp / "db", log_path=tmp / "db.log") as mongo:
            uri = mongo.uri("bench")
            upload_mb = max(args.stream_mb, args.range_mb) * 2
            server = Gunicorn(
                uri,
                workers=args.workers,
                threads=args.threads,
                # INFO: figure 4 reads /auth/me's time inside the app from the access log.
                extra_env={"MAX_UPLOAD_MB": str(upload_mb), "LOG_LEVEL": "INFO"},
            )
            try:
                with MongoClient(uri) as client:
                    database = client.get_default_database()
                    run(server, mongo.process.pid, pool, database, args, stream_video, range_video)
            finally:
                server.stop()
    print(f"\n(whole run: {time.perf_counter() - started:.0f} s)")


def run(server, db_pid, pool, database, args, stream_video, range_video):
    token = server.token_for("creator")
    stream_id, stream_file, stream_size = upload_ready(server, token, database, stream_video)
    range_id, _, range_size = upload_ready(server, token, database, range_video)
    pid = server.process.pid
    workers = len(Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
    threads = args.threads or runpy.run_path(str(ROOT / "gunicorn.conf.py"))["threads"]
    print(f"gunicorn: {workers} workers x {threads} threads (gthread)")
    settled, quiet = wait_until_quiet(db_pid, pid)
    if quiet:
        print(f"waited {settled:.0f} s for the database and gunicorn to go idle after the uploads")
    else:
        print(
            f"WARNING: the database and gunicorn were still busy after {settled:.0f} s;"
            " the figures below include that background work"
        )
    stream_path = media_path(server, token, stream_id)
    figure_throughput(server, database, stream_path, stream_file, stream_size)
    figure_ranges(server, media_path(server, token, range_id), range_size, args.requests)
    figure_memory(server, db_pid, pool, stream_path, stream_size, args.streams)
    figure_fairness(server, pool, stream_path, token, args.fair_streams, args.window)


if __name__ == "__main__":
    main()
