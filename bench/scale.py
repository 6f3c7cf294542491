"""Scale benchmark: the same requests at a small and a large catalogue, as ratios large/small.

For each size (users = videos = N), a fresh embedded database gets N users and N ready public
videos inserted directly (bench/scale_data.py) into the app's indexes, BEFORE gunicorn starts
with the repo's config, so its start-up tasks (index checks, migrations) run over them. Then
one real account signs up and one real clip goes through POST /video/upload until ready. After
a warm-up call per route, the p50 of ``--calls`` calls of each row is taken (rows interleaved,
fresh connection each, each call once the database and gunicorn are quiet: a slow query's
aftermath is its own). Prints
a table per size and the ratios large/small with the goal (every ratio <= 1.5x) per row; never
asserts them. An unexpected HTTP status is an error: in set-up it stops the run; in a timed
call it is recorded and shown, and the run goes on; either way the exit status is 1 (0 else).
The environment reaches the app (MONGODB_TIMEOUT_MS=... for instance).
Run: .venv/bin/python -m bench.scale [--small 100] [--large 100000] [--calls 5]
"""

import argparse
import json
import os
import runpy
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

from pymongo import MongoClient

from bench import scale_data
from bench.common import ROOT, EmbeddedMongo, Gunicorn, wait_until_quiet
from bench.stream import bearer, upload_ready
from models import user as users
from models import video as videos

GOAL = 1.5
PASSWORD = "scale-bench-password"
EMAIL = "scale-bench@example.com"
PAGE = 50  # the deep page of the catalogue
STARTUP_LIMIT = 1200  # seconds before a server that never answers /health is an error


class BenchError(Exception):
    """An unexpected answer, with its ``status``."""

    def __init__(self, message, status="error"):
        super().__init__(message)
        self.status = status


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100, help="users and videos (default 100)")
    parser.add_argument("--large", type=int, default=100_000, help="(default 100000)")
    parser.add_argument("--calls", type=int, default=5, help="timed calls per row (p50 of them)")
    args = parser.parse_args()
    if args.small < PAGE - 1:
        parser.error(f"--small must be at least {PAGE - 1}: page {PAGE} must exist")
    return args


def call(server, method, path, expect, token=None, body=None):
    """(seconds, parsed JSON body) of one request on a fresh connection."""
    start = time.perf_counter()
    status, data = server.request(method, path, body, bearer(token) if token else None)
    seconds = time.perf_counter() - start
    if status != expect:
        where = path.split("?")[0]
        raise BenchError(f"{method} {where}: {status}, expected {expect}: {data[:300]}", status)
    return seconds, json.loads(data) if data else None


def first_byte(port, path):
    """Seconds from connecting to the first byte of ``Range: bytes=0-1``; checks the 206."""
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=600) as connection:
        connection.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nRange: bytes=0-1\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        data = connection.recv(65536)
        seconds = time.perf_counter() - start
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1].decode() if head else "no answer"
    if status != "206" or len(body) != 2:
        message = f"media bytes=0-1: {status} with {len(body)} bytes, expected 206 with 2"
        raise BenchError(message, status)
    return seconds


def deep_page(server, token, per_page):
    """The path of catalogue page ``PAGE``, and how it was reached: by following next_cursor
    when the API gives one (each page fetched: the set-up), by ``?page=`` otherwise."""
    path = f"/videos?per_page={per_page}"
    pagination = call(server, "GET", path, 200, token)[1]["pagination"]
    if "next_cursor" not in pagination:
        return f"{path}&page={PAGE}", "?page= (no next_cursor in this API)"
    for _ in range(PAGE - 1):
        if not pagination.get("next_cursor"):
            raise BenchError(f"/videos has fewer than {PAGE} pages of {per_page}")
        path = f"/videos?per_page={per_page}&cursor={quote(pagination['next_cursor'])}"
        pagination = call(server, "GET", path, 200, token)[1]["pagination"]
    return path, f"next_cursor ({PAGE - 1} pages walked)"


def rows(server, token, video_id, catalogue, per_page):
    """{row name: function timing one call}; the same names at every size."""

    def get(path, listed=False):
        def timed():
            seconds, body = call(server, "GET", path, 200, token)
            if listed and not body["videos"]:
                raise BenchError(f"GET {path.split('&cursor')[0]}: no videos", "empty")
            return seconds

        return timed

    login = {"email": EMAIL, "password": PASSWORD}
    playback = call(server, "POST", f"/video/{video_id}/playback-token", 200, token)[1]
    url = urlsplit(playback["stream_url"])
    deep_path, how = deep_page(server, token, per_page)
    catalogue["page 50 reached by"] = how
    return {
        "POST /auth/login": lambda: call(server, "POST", "/auth/login", 200, body=login)[0],
        "GET /auth/me": get("/auth/me"),
        "GET /dashboard": get("/dashboard", listed=True),
        "GET /videos (page 1)": get("/videos", listed=True),
        f"GET /videos page {PAGE} (per_page {per_page})": get(deep_path, listed=True),
        "GET /videos?q=<common word>": get(f"/videos?q={catalogue['common']}", listed=True),
        "GET /videos?q=<rare word>": get(f"/videos?q={catalogue['rare']}", listed=True),
        "GET /video/{id}": get(f"/video/{video_id}"),
        "media first byte (bytes=0-1)": lambda: first_byte(server.port, f"{url.path}?{url.query}"),
    }


def start_server(uri, db_pid):
    """Gunicorn with the repo's config: (server, start-up figures). Its start-up tasks have
    run in every worker when each has logged 'database ready'. A worker whose start-up
    outlasts gunicorn's timeout is killed and replaced: counted, and waited through."""
    workers = runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"]
    start = time.perf_counter()
    server = Gunicorn(uri, workers=None, extra_env={"LOG_LEVEL": "INFO"}, wait=False)
    healthy, log_path = None, server.server.log_path
    while server.server.log().count("database ready:") < workers or healthy is None:
        if server.process.poll() is not None or time.perf_counter() - start > STARTUP_LIMIT:
            server.stop()
            raise BenchError(f"gunicorn not ready within {STARTUP_LIMIT} s: see {log_path}")
        if healthy is None:
            try:
                if server.server.health_status() == 200:
                    healthy = time.perf_counter() - start
            except OSError:
                pass
        time.sleep(0.2)
    ready = time.perf_counter() - start
    quiet, went_quiet = wait_until_quiet(db_pid, server.process.pid, timeout=600)
    return server, {
        "healthy": healthy,
        "ready": ready,
        "workers": workers,
        "killed": server.server.log().count("WORKER TIMEOUT"),
        "quiet": ready + quiet if went_quiet else None,
    }


def create_app_indexes(database):
    """The app's indexes before the documents, as a deployment that grew has them: the
    embedded server maintains index entries on insert several times faster than it builds
    an index over documents already stored (a one-time migration's cost, not a page's)."""
    users.create_indexes(database)
    videos.create_indexes(database)


def run_size(count, small, calls):
    """(timings per row, summary lines) for a catalogue of ``count`` users and ``count`` videos;
    the deep page has as many videos per page at every size (``small`` must reach it)."""
    print(f"\n== {count:,} users, {count:,} videos ==", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        from demo.synthetic_media import write_video  # PyAV

        clip = write_video(Path(tmp) / "scale-upload.mp4", seconds=4, keyframe_seconds=1)
        with (
            EmbeddedMongo(Path(tmp) / "db", log_path=Path(tmp) / "db.log") as mongo,
            MongoClient(mongo.uri("bench"), tz_aware=True) as client,
        ):
            database = client.get_default_database()
            end = datetime.now(UTC) - timedelta(minutes=1)  # the real upload is the newest
            create_app_indexes(database)
            catalogue = scale_data.populate(database, count, count, clip, end)
            lines = scale_data.describe(database, catalogue)
            print("\n".join(lines))
            summary = lines[:1]
            wait_until_quiet(mongo.process.pid, timeout=600)
            server, startup = start_server(mongo.uri("bench"), mongo.process.pid)
            try:
                summary.append(report_startup(startup))
                per_page = max(1, min(20, (small + 1) // PAGE))
                timings = measure(
                    server, database, mongo.process.pid, clip, catalogue, calls, per_page
                )
                return timings, summary
            finally:
                server.stop()


def measure(server, database, db_pid, clip, catalogue, calls, per_page):
    body = {"name": "Scale Bench", "email": EMAIL, "password": PASSWORD, "role": "creator"}
    call(server, "POST", "/auth/signup", 201, body=body)
    login = {"email": EMAIL, "password": PASSWORD}
    token = call(server, "POST", "/auth/login", 200, body=login)[1]["token"]
    start = time.perf_counter()
    video_id = upload_ready(server, token, database, clip)[0]
    print(f"real upload: ready after {time.perf_counter() - start:.1f} s")
    for line in scale_data.shapes(database, video_id, EMAIL):
        print(f"document shapes: {line}")
    timers = rows(server, token, video_id, catalogue, per_page)
    print(f"page {PAGE}: reached by {catalogue['page 50 reached by']}")
    settled, quiet = wait_until_quiet(db_pid, server.process.pid, timeout=300)
    load = os.getloadavg()[0]  # the machine is shared: other work skews figures
    print(
        f"quiet before timing: {'yes' if quiet else 'NO'} (waited {settled:.0f} s);"
        f" machine load average {load:.1f} on {os.cpu_count()} cores"
    )
    for name, timer in timers.items():  # warm-up: one call per route
        warm = attempt(timer)
        if warm[1]:
            print(f"warm-up of {name} failed after {warm[0]:.1f} s: {warm[2]}")
    timings, busy = {name: [] for name in timers}, 0
    for _ in range(calls):  # interleaved: drift in the machine's load hits every row
        for name, timer in timers.items():
            # A slow query's aftermath in the database must not land on the next row's call.
            busy += not wait_until_quiet(db_pid, server.process.pid, timeout=30)[1]
            timings[name].append(attempt(timer))
    print(f"each timed call waited for the database and gunicorn to go quiet; {busy} did not")
    print(f"\n{'row':<36} {'p50 ms':>10}   all calls (ms; a failed one: status@ms)")
    for name, values in timings.items():
        shown = " ".join(f"{f'{s}@' if s else ''}{t * 1000:.1f}" for t, s, _ in values)
        print(f"{name:<36} {fmt_ms(p50_of(values)):>10}   {shown}")
    failed = [error for values in timings.values() for _, status, error in values if status]
    for error in dict.fromkeys(failed):  # each distinct failure once
        print(f"FAILED: {error}")
    return timings


def attempt(timer):
    """(seconds, None, None) or, for an unexpected answer, (seconds, its status, message)."""
    start = time.perf_counter()
    try:
        return timer(), None, None
    except BenchError as error:
        return time.perf_counter() - start, error.status, str(error)


def p50_of(values):
    """The median of the calls that got the expected answer; None if none did."""
    ok = [seconds for seconds, status, _ in values if not status]
    return statistics.median(ok) if ok else None


def fmt_ms(seconds):
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def report_startup(startup):
    quiet = f"{startup['quiet']:.1f} s" if startup["quiet"] else "not within 600 s"
    line = (
        f"server start-up: /health after {startup['healthy']:.1f} s; start-up tasks done in all"
        f" {startup['workers']} workers after {startup['ready']:.1f} s; quiet after {quiet};"
        f" workers killed by gunicorn's timeout meanwhile: {startup['killed']};"
        f" MONGODB_TIMEOUT_MS {os.environ.get('MONGODB_TIMEOUT_MS', 'not set (the app: 2000)')}"
    )
    print(line)
    return line


def report_ratios(small, large, figures, info):
    print(f"\n== ratios large / small (p50); goal: every ratio <= {GOAL}x ==")
    print(f"{'row':<36} {f'{small:,} ms':>12} {f'{large:,} ms':>12} {'ratio':>9}  goal")
    met = 0
    for name in figures[small]:
        low, high = p50_of(figures[small][name]), p50_of(figures[large][name])
        ratio = high / low if low and high else None
        failed = [s for size in (small, large) for _, s, _ in figures[size][name] if s]
        verdict = "met" if ratio is not None and ratio <= GOAL else "MISSED"
        met += verdict == "met" and not failed
        if failed:
            verdict += f", {len(failed)} calls FAILED ({', '.join(sorted(set(map(str, failed))))})"
        shown = "-" if ratio is None else f"{ratio:.2f}x"
        print(f"{name:<36} {fmt_ms(low):>12} {fmt_ms(high):>12} {shown:>9}  {verdict}")
    print(
        f"goal met on {met} of {len(figures[small])} rows (a row with failed calls never meets it)"
    )
    for size in (small, large):
        print(f"\n{size:,} users and videos (whole size: {info[size][0]:.0f} s):")
        for line in info[size][1]:
            print(f"   {line}")


def main():
    args = parse_args()
    started = time.perf_counter()
    figures, info = {}, {}
    try:
        for count in (args.small, args.large):
            size_start = time.perf_counter()
            figures[count], summary = run_size(count, args.small, args.calls)
            info[count] = (time.perf_counter() - size_start, summary)
    except BenchError as error:
        print(f"\nERROR: {error}", file=sys.stderr)
        sys.exit(1)
    report_ratios(args.small, args.large, figures, info)
    print(f"\n(whole run: {time.perf_counter() - started:.0f} s)")
    failed = any(
        status for rows_of in figures.values() for v in rows_of.values() for _, status, _ in v
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
