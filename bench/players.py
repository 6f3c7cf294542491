"""Players benchmark: media first byte with and without watch-progress reports, in one run.

50 players (threads in a child process, one new connection per request, as bench/load.py)
stream one real video through gunicorn (repo config) on the embedded database: each asks a
``--chunk`` Range at a time, from where it is in the file onwards (wrapping at the end),
then waits ``--pause`` s (+-50%), as a player that keeps a buffer full. In the phases *with
progress* each player also sends ``PUT /video/{id}/progress`` every ``--interval`` s (after
the media request that passes it; the players' first reports spread over the interval); in
the phases *without*, it does not. Phases alternate (``--rounds`` of
both, the order swapped every round, so a drift in the machine's load hits both alike).

``--interval`` is 10 s by default, what players are asked to do (services.progress); a
smaller one compresses time (``--interval 2``: five times the real progress load). The
interval actually measured is printed. The positions are plausible: a player's position is
the wall time since its own start (modulo the video's duration), so every report advances by
the wall time since the previous one, and services.progress credits watch time min(wall,
advance, 20 s) as it would for a viewer who watches without seeking.

Prints (never asserts) the p50/p95/p99 time to the first byte of the media responses in
each mode and the ratio of the p95s, against the goal (with / without <= 1.2x).
Run: .venv/bin/python -m bench.players [--players 50] [--rounds 3] [--phase 20] [--interval 10]
"""

import argparse
import http.client
import json
import multiprocessing
import random
import runpy
import statistics
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from bson import ObjectId
from pymongo import MongoClient

from bench.common import ROOT, EmbeddedMongo, Gunicorn, log_problems, percentile, wait_until_quiet
from bench.stream import bearer, media_path, upload_ready
from models.counter_buffer import FLUSH_SECONDS

GOAL = 1.2
PASSWORD = "bench-password"
KIB = 1024


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of both phases")
    parser.add_argument("--phase", type=float, default=20, help="seconds of each phase")
    parser.add_argument("--interval", type=float, default=10, help="seconds between reports")
    parser.add_argument("--chunk", type=int, default=256, help="KiB per Range request")
    parser.add_argument("--pause", type=float, default=0.3, help="seconds between requests")
    return parser.parse_args()


# --- The players (in the child process) ---


class Player:
    """One viewer: its access token, media path, place in the file and in the video."""

    def __init__(self, port, token, path, size, duration, epoch, seed):
        self.port, self.token, self.path = port, token, path
        self.size, self.duration, self.epoch = size, duration, epoch
        self.rng = random.Random(seed)
        self.offset = self.rng.randrange(size)
        # media first-byte seconds, [(status label, seconds)] of reports, report times
        self.first_bytes, self.reports, self.reported_at = [], [], []
        self.errors = Counter()

    def media(self, chunk):
        start = self.offset if self.offset < self.size else 0
        end = min(start + chunk, self.size) - 1
        buffer = memoryview(bytearray(64 * KIB))
        began = time.perf_counter()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            connection.request("GET", self.path, headers={"Range": f"bytes={start}-{end}"})
            response = connection.getresponse()
            received = response.readinto(buffer)
            first = time.perf_counter() - began
            while count := response.readinto(buffer):
                received += count
            connection.close()
        except (OSError, http.client.HTTPException) as error:
            self.errors[f"media {type(error).__name__}"] += 1
            return
        if response.status != 206 or received != end - start + 1:
            self.errors[f"media {response.status}, {received} bytes"] += 1
            return
        self.first_bytes.append(first)
        self.offset = end + 1

    def position(self):
        """Seconds into the video: the wall time since this player started, wrapping."""
        return round((time.time() - self.epoch) % self.duration, 3)

    def report(self):
        body = json.dumps({"position_seconds": self.position()})
        headers = {**bearer(self.token), "Content-Type": "application/json"}
        began = time.perf_counter()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            connection.request("PUT", self.path.split("/media")[0] + "/progress", body, headers)
            status = connection.getresponse().status
            connection.close()
        except (OSError, http.client.HTTPException) as error:
            self.errors[f"progress {type(error).__name__}"] += 1
            return
        self.reports.append((str(status), time.perf_counter() - began))
        self.reported_at.append(time.time())
        if status != 204:
            self.errors[f"progress {status}"] += 1

    def play(self, start_at, until, interval, chunk, pause):
        time.sleep(max(start_at - time.time(), 0) + self.rng.uniform(0, pause))
        due = time.time() + self.rng.uniform(0, interval) if interval else None
        while time.time() < until:
            self.media(chunk)
            if due is not None and time.time() >= due:
                self.report()
                due += interval
            time.sleep(pause * self.rng.uniform(0.5, 1.5))


def run_phase(port, players, start_at, until, interval, chunk, pause, seed):
    """Every player plays from ``start_at`` to ``until``; the figures of this phase."""
    team = [Player(port, *player, seed=seed * 1000 + n) for n, player in enumerate(players)]
    with ThreadPoolExecutor(len(team)) as threads:
        list(threads.map(lambda p: p.play(start_at, until, interval, chunk, pause), team))
    intervals = [
        later - earlier
        for player in team
        for earlier, later in zip(player.reported_at, player.reported_at[1:], strict=False)
    ]
    return {
        "first_bytes": [s for player in team for s in player.first_bytes],
        "reports": [r for player in team for r in player.reports],
        "intervals": intervals,
        "errors": sum((player.errors for player in team), Counter()),
    }


# --- In this process: the set-up, the phases and the report ---


def make_video(tmp):
    from demo.synthetic_media import write_video  # PyAV: not needed by the players

    # Five minutes, so that positions advance for the whole run; few frames, quick to write.
    return write_video(
        tmp / "players.mp4", seconds=300, fps=2, width=640, height=360, keyframe_seconds=2
    )


def viewers(server, count, video_id):
    """``count`` viewers, each (access token, media path), signed up in parallel."""

    def viewer(index):
        email = f"player-{index}-{time.time_ns()}@example.com"
        credentials = {"email": email, "password": PASSWORD}
        server.request("POST", "/auth/signup", {"name": "Player", **credentials})
        status, data = server.request("POST", "/auth/login", credentials)
        if status != 200:
            raise RuntimeError(f"login {email}: {status} {data[:200]!r}")
        token = json.loads(data)["token"]
        return token, media_path(server, token, video_id)

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(viewer, range(count)))


def warm_up(players):
    """Each player's first media request (the view is counted then) and first report
    (which credits nothing), outside the measured phases."""
    with ThreadPoolExecutor(len(players)) as pool:
        list(pool.map(lambda p: (p.media(2), p.report()), players))
    errors = sum((p.errors for p in players), Counter())
    if errors:
        raise RuntimeError(f"warm-up: {dict(errors)}")


def summary(label, results):
    first = [s * 1000 for result in results for s in result["first_bytes"]]
    figures = " ".join(f"{percentile(first, q):8.1f}" for q in (0.5, 0.95, 0.99))
    print(f"{label:<18}{len(first):>9} {figures}")
    return percentile(first, 0.95)


def main():
    args = parse_args()
    started = time.perf_counter()
    spawn = multiprocessing.get_context("spawn")  # no fork of a process with threads
    with (
        tempfile.TemporaryDirectory(prefix="bench-players-") as tmp,
        ProcessPoolExecutor(1, mp_context=spawn) as pool,
    ):
        pool.submit(int).result()  # start the players' process now
        video = make_video(Path(tmp))
        with EmbeddedMongo(Path(tmp) / "db", log_path=Path(tmp) / "db.log") as mongo:
            server = Gunicorn(mongo.uri("bench"), workers=None, extra_env={"BCRYPT_ROUNDS": "4"})
            try:
                with MongoClient(mongo.uri("bench")) as client:
                    database = client.get_default_database()
                    errors = run(server, mongo.process.pid, pool, database, video, args)
                if errors:
                    log_problems(server)
            finally:
                server.stop()
    print(f"\n(whole run: {time.perf_counter() - started:.0f} s)")


def run(server, db_pid, pool, database, video, args):
    creator = server.token_for("creator")
    video_id, _, size = upload_ready(server, creator, database, video)
    duration = database.videos.find_one({"_id": ObjectId(video_id)})["duration"]
    epoch = time.time()
    players = [
        (token, path, size, duration, epoch - random.uniform(0, duration / 2))
        for token, path in viewers(server, args.players, video_id)
    ]
    warm_up([Player(server.port, *player, seed=n) for n, player in enumerate(players)])
    wait_until_quiet(db_pid, server.process.pid)
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    print(f"gunicorn: {conf['workers']} workers x {conf['threads']} threads (gunicorn.conf.py)")
    print(
        f"video: {duration:.0f} s, {size / KIB / KIB:.1f} MiB; {args.players} players,"
        f" Range of {args.chunk} KiB then a pause of {args.pause} s (+-50%)"
    )
    print(
        f"{args.rounds} rounds of {args.phase:.0f} s without and {args.phase:.0f} s with progress"
        f" (a report every {args.interval:g} s), the order swapped every round"
    )
    results = {False: [], True: []}
    for round_ in range(args.rounds):
        for reporting in (False, True) if round_ % 2 == 0 else (True, False):
            start_at = time.time() + 1
            future = pool.submit(
                run_phase,
                server.port,
                players,
                start_at,
                start_at + args.phase,
                args.interval if reporting else 0,
                args.chunk * KIB,
                args.pause,
                round_ * 2 + reporting,
            )
            results[reporting].append(future.result())
    return report(database, results, args.phase, args.players)


def report(database, results, phase, players):
    print(f"\nmedia time to first byte   {'requests':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    without = summary("without progress", results[False])
    with_ = summary("with progress", results[True])
    reports = [r for result in results[True] for r in result["reports"]]
    seconds = [s * 1000 for _, s in reports]
    intervals = [s for result in results[True] for s in result["intervals"]]
    statuses = Counter(status for status, _ in reports)
    every = f"{statistics.median(intervals):.2f}" if intervals else "?"
    print(
        f"progress reports: {len(reports)} ({dict(statuses)}), p50 {statistics.median(seconds):.1f}"
        f" ms, p95 {percentile(seconds, 0.95):.1f} ms; one every {every} s per player"
        " (median; real players: 10 s)"
    )
    time.sleep(3 * FLUSH_SECONDS)  # the workers write their counters about every second
    credited = sum(day.get("watch_seconds", 0) for day in database.video_days.find())
    played = len(results[True]) * phase * players
    print(
        f"watch time credited: {credited} s; players x seconds of phases with progress:"
        f" {played:.0f} s (a first report after a phase without also credits the gap, <= 20 s)"
    )
    ratio = with_ / without
    verdict = "ok" if ratio <= GOAL else "OVER"
    print(f"first-byte p95 with / without progress: {ratio:.2f}x  (goal <= {GOAL}x) {verdict}")
    errors = sum((r["errors"] for rs in results.values() for r in rs), Counter())
    print(f"unexpected answers: {errors.total()} {dict(errors) if errors else ''}")
    return errors.total()


if __name__ == "__main__":
    main()
