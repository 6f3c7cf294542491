"""Media cache benchmark (issue 18): the media route against nginx serving the same file.

One synthetic video (200 MB by default, made once and kept) goes through
``POST /video/upload`` on gunicorn (repo config) and the embedded database; the bytes GridFS
then holds are written to disk and served by Debian's nginx (sendfile on, its own config, a
free port). gunicorn gets ``MEDIA_CACHE_MB`` and ``MEDIA_CACHE_DIR``; one full GET warms the
cache, then the bench waits until a file of the video's size appears in ``MEDIA_CACHE_DIR``
(or says "cache never filled" and measures the route as it is). That set-up is
bench/media_servers.media_and_nginx, shared with bench/ranges.py.
Clients (Downloaders below: threads in two child processes, 1 MiB reads; not wrk, whose 8 KiB
reads cap it below nginx's speed: here, one stream of a 20 MB file, wrk 560 MiB/s and 1 MiB
reads 1,200; 20 streams, 930 and 2,000) download the whole file again and again for
``--seconds``, nginx and the route interleaved, best of ``--rounds``.
Prints (never asserts), in one run:
1. one stream: MiB/s of each, ratio media/nginx (goal >= 0.8x);
2. 20 concurrent streams: MiB/s in all of each, ratio media/nginx (goal >= 0.8x);
3. ``GET /auth/me`` p95 under 50 concurrent warm streams against idle (goal <= 2x).
Rate limits are off (bench.common.Gunicorn), as in bench/stream.py.
Run: .venv/bin/python -m bench.cache [--mb 200] [--seconds 10] [--rounds 3] [--cache-mb 1024]
"""

import argparse
import multiprocessing
import os
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

from bench.common import percentile, stream_get
from bench.media_servers import MIB, media_and_nginx
from bench.stream import auth_me_latencies, ms


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


def main():
    args = parse_args()
    with media_and_nginx(args, "bench-cache-") as bench, Downloaders() as clients:
        figure_throughput(1, clients, bench.targets, 1, args)
        figure_throughput(2, clients, bench.targets, args.streams, args)
        figure_api(bench.server, bench.token, clients, bench.targets["media"], args)


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
    process of the bench's own would add its GIL to the API probes it makes meanwhile. At
    nice +10: in production the players are other machines, not the server's own CPU, and at
    the same priority they took the CPU the /auth/me probe needs (its p50 5-10 ms at +10,
    60-80 ms at 0, the server unchanged)."""

    def __init__(self):
        spawn = multiprocessing.get_context("spawn")  # no fork of a process with threads
        self.pool = ProcessPoolExecutor(2, mp_context=spawn, initializer=os.nice, initargs=(10,))

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


if __name__ == "__main__":
    main()
