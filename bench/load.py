"""Mixed load: logins, dashboards, stream JSON and media ranges on gunicorn (repo config).

Clients are threads in a child process, one new connection per request (gunicorn.conf.py
keeps no idle keep-alive), on a few real videos uploaded through POST /video/upload and
processed, on the embedded database. Prints (never asserts) requests, throughput, p50/p95/p99
latency per kind and overall, answers by status. Target: no error (no deliberate 429 here).
Run: .venv/bin/python -m bench.load [--seconds 60] [--clients 50] [--smoke]
``--smoke``: 10 clients for 10 s. Exits 1 on any unexpected answer (CI can run it).
"""

import argparse
import http.client
import json
import multiprocessing
import random
import runpy
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from pymongo import MongoClient

from bench.common import (
    ROOT,
    EmbeddedMongo,
    Gunicorn,
    log_problems,
    percentile,
    wait_until_quiet,
)
from bench.stream import bearer, upload_ready

PASSWORD = "bench-password"
BCRYPT_ROUNDS = "12"  # the repo's default outside tests: a login costs what it does in production
# All clients are 127.0.0.1: the per-IP limits (1200/min API, 10/min login, 5/min signup) are
# raised; the limiter stays on (its MongoDB counters are load too), media keeps its per-token one.
RAISED = "1000000 per minute"
LIMITS = {"RATELIMIT_DEFAULT": RAISED, "RATELIMIT_LOGIN": RAISED, "RATELIMIT_SIGNUP": RAISED}
# What a client does next (weights), and the status each kind must answer.
MIX = {"login": 1, "dashboard": 10, "stream": 14, "media_range": 60, "media_0_1": 15}
EXPECTED = {"login": 200, "dashboard": 200, "stream": 200, "media_range": 206, "media_0_1": 206}


def credentials(email):
    return {"email": email, "password": PASSWORD}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--smoke", action="store_true", help="10 clients, 10 s, exit 1 on error")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.clients = 10, 10
    return args


# --- The clients (in the child process) ---


class Client:
    """One app user: logs in, reads the dashboard, asks where to play, fetches ranges."""

    def __init__(self, port, email, token, sizes, seed):
        self.port, self.email, self.token, self.sizes = port, email, token, sizes
        self.rng = random.Random(seed)
        # [(id, playback token)], (id, media path), [(kind, status label, seconds, ok)]
        self.videos, self.media, self.results = [], None, []

    def call(self, kind, method, path, body=None, headers=None, check=None):
        headers = dict(headers or {})
        if body is not None:
            body, headers["Content-Type"] = json.dumps(body), "application/json"
        start = time.perf_counter()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            connection.close()
        except (OSError, http.client.HTTPException) as error:
            self.results.append((kind, type(error).__name__, time.perf_counter() - start, False))
            return None
        seconds, label = time.perf_counter() - start, str(response.status)
        ok = response.status == EXPECTED[kind]
        if ok and check is not None and not check(response, data):
            ok, label = False, f"{response.status} bad body"
        self.results.append((kind, label, seconds, ok))
        return data if ok else None

    def login(self):
        data = self.call("login", "POST", "/auth/login", credentials(self.email))
        self.token = json.loads(data)["token"] if data else self.token

    def dashboard(self):
        def check(response, data):  # every video, each with its own playback token
            return len(json.loads(data)["videos"]) == len(self.sizes)

        data = self.call("dashboard", "GET", "/dashboard", headers=bearer(self.token), check=check)
        if data:
            self.videos = [(v["id"], v["playback_token"]) for v in json.loads(data)["videos"]]

    def stream(self):
        video_id, playback = self.rng.choice(self.videos)
        path = f"/video/{video_id}/stream?token={playback}"
        data = self.call("stream", "GET", path, headers=bearer(self.token))
        if data:
            url = urlsplit(json.loads(data)["stream_url"])
            self.media = (video_id, f"{url.path}?{url.query}")

    def media_range(self, probe=False):
        video_id, path = self.media
        size = self.sizes[video_id]
        length = 2 if probe else min(self.rng.randint(100_000, 500_000), size)
        start = 0 if probe else self.rng.randint(0, size - length)
        end = start + length - 1

        def check(response, data):
            expected = f"bytes {start}-{end}/{size}"
            return len(data) == length and response.getheader("Content-Range") == expected

        kind = "media_0_1" if probe else "media_range"
        self.call(kind, "GET", path, headers={"Range": f"bytes={start}-{end}"}, check=check)

    def step(self):
        if not self.videos:
            return self.dashboard()
        if self.media is None:
            return self.stream()
        kind = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        if kind.startswith("media"):
            return self.media_range(probe=kind == "media_0_1")
        return getattr(self, kind)()


def run_clients(port, logins, sizes, start_at, until):
    """One thread per (email, token) in ``logins`` from ``start_at`` to ``until`` (time.time())."""
    clients = [Client(port, email, token, sizes, i) for i, (email, token) in enumerate(logins)]

    def work(client):
        time.sleep(max(start_at - time.time(), 0))
        while time.time() < until:
            client.step()
        return time.time()

    with ThreadPoolExecutor(len(clients)) as threads:
        ended = list(threads.map(work, clients))
    return [r for client in clients for r in client.results], max(ended) - start_at


# --- In this process: the set-up and the report ---


def make_videos(tmp, mbs):
    from demo.synthetic_media import write_noise_video, write_video  # PyAV: not in the clients

    talk = write_video(tmp / "talk.mp4", seconds=20, width=640, height=360, keyframe_seconds=1)
    return [talk, *(write_noise_video(tmp / f"noise-{mb}.mp4", mb) for mb in (mbs or (8, 16)))]


def viewer_logins(server, count, accounts=10):
    """``count`` (email, access token) pairs over ``accounts`` viewers, logged in in parallel."""
    emails = [f"load-viewer-{i}@example.com" for i in range(min(count, accounts))]
    for email in emails:
        server.request("POST", "/auth/signup", {"name": "Load", **credentials(email)})

    def login(index):
        email = emails[index % len(emails)]
        status, data = server.request("POST", "/auth/login", credentials(email))
        if status != 200:
            raise RuntimeError(f"login {email}: {status} {data[:200]!r}")
        return email, json.loads(data)["token"]

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(login, range(count)))


def report(results, seconds):
    by_kind = defaultdict(list)
    for kind, label, latency, ok in results:
        by_kind[kind].append((label, latency, ok))
    print(f"\nrequests: {len(results)} in {seconds:.1f} s, {len(results) / seconds:.1f} req/s")
    print(f"{'kind':<12} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  answers")
    rows = [(kind, by_kind[kind]) for kind in MIX if kind in by_kind]
    rows.append(("all", [row for _, rows_of in rows for row in rows_of]))
    for kind, rows_of in rows:
        latencies = [latency * 1000 for _, latency, _ in rows_of]
        answers = ", ".join(f"{k}: {n}" for k, n in sorted(Counter(r[0] for r in rows_of).items()))
        figures = " ".join(f"{percentile(latencies, q):8.1f}" for q in (0.5, 0.95, 0.99))
        print(f"{kind:<12} {len(rows_of):>6} {figures}  {answers}")
    errors = Counter((kind, label) for kind, label, _, ok in results if not ok)
    print(f"\nunexpected answers: {errors.total()} (target 0; no deliberate 429s in this run)")
    for (kind, label), count in sorted(errors.items()):
        print(f"   {kind}: {label} x{count}")
    return errors.total()


def main():
    args = parse_args()
    spawn = multiprocessing.get_context("spawn")  # no fork of a process with threads
    with (
        tempfile.TemporaryDirectory(prefix="bench-load-") as tmp,
        ProcessPoolExecutor(1, mp_context=spawn) as pool,
    ):
        pool.submit(int).result()  # start the client process now
        videos = make_videos(Path(tmp), (4, 8) if args.smoke else None)
        with EmbeddedMongo(Path(tmp) / "db", log_path=Path(tmp) / "db.log") as mongo:
            env = {"RATELIMIT_ENABLED": "true", "BCRYPT_ROUNDS": BCRYPT_ROUNDS, "LOG_LEVEL": "INFO"}
            server = Gunicorn(mongo.uri("bench"), workers=None, extra_env={**env, **LIMITS})
            try:
                with MongoClient(mongo.uri("bench")) as client:
                    database = client.get_default_database()
                    errors = run(server, mongo.process.pid, pool, database, videos, args)
            finally:
                server.stop()
    sys.exit(1 if errors else 0)


def run(server, db_pid, pool, database, videos, args):
    creator = server.token_for("creator")
    ready = [upload_ready(server, creator, database, path) for path in videos]
    sizes = {video_id: size for video_id, _, size in ready}
    logins = viewer_logins(server, args.clients)
    wait_until_quiet(db_pid, server.process.pid)
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))  # this environment is the server's
    print(f"gunicorn: {conf['workers']} workers x {conf['threads']} threads (gunicorn.conf.py)")
    print(f"rate limits ON (RATELIMIT_ENABLED=true, in MongoDB); {', '.join(LIMITS)} = {RAISED}")
    print("   (all clients share one IP); RATELIMIT_MEDIA default: 600 per minute per token")
    print(f"bcrypt rounds: {BCRYPT_ROUNDS}; mix (weights): {MIX}")
    mib = ", ".join(f"{size / 2**20:.1f}" for size in sizes.values())
    print(f"videos: {len(sizes)} ready ({mib} MiB); ranges: 100-500 KB at random, and bytes=0-1")
    print(f"{args.clients} clients for {args.seconds:.0f} s (threads in one child process)")
    start_at = time.time() + 1
    future = pool.submit(run_clients, server.port, logins, sizes, start_at, start_at + args.seconds)
    results, seconds = future.result()
    errors = report(results, seconds)
    if errors:
        log_problems(server)
    return errors


if __name__ == "__main__":
    main()
