"""Analytics benchmark: the reports' p50 with 1,000,000 events against 1,000 events.

For each size a fresh database (the embedded server) gets 1,000 ready videos of 10 creators
(100 each: one of them a real account) and the daily counters of ``--events`` view and
progress events spread at random over those videos and the last 365 days, written straight
into the collections the app writes (``video_days``; the ``video_months``, ``owner_months``
and ``platform_months`` that the reports read; the videos' all-time ``views`` and
``watch_seconds``: what the media route and models.daily_stats.add leave after that many
events), not through HTTP. Then the p50 of ``--calls`` calls, in process through the app's
test client, of: one video's 366-day analytics, the real creator's (100 videos) and the
admin's; the two sizes' calls alternate, so a change in the machine's load hits both. Prints
the p50s and the ratios large/small with the goal (each <= 1.5x), never asserting them.
Run: .venv/bin/python -m bench.analytics [--quick] [--calls 15]
"""

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bson import ObjectId

from bench.common import EmbeddedMongo, wait_until_quiet

GOAL = 1.5
VIDEOS, CREATORS, DAYS = 1_000, 10, 365
PASSWORD = "analytics-bench-password"
BATCH = 10_000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=1_000, help="events, small size")
    parser.add_argument("--large", type=int, default=1_000_000, help="events, large size")
    parser.add_argument("--calls", type=int, default=15, help="timed calls per report")
    parser.add_argument("--quick", action="store_true", help="large = 20,000 events, 7 calls")
    args = parser.parse_args()
    if args.quick:
        args.large, args.calls = 20_000, 7
    return args


def make_app(uri):
    from app import create_app

    return create_app(
        {
            "MONGODB_URI": uri,
            "APP_ENV": "testing",
            "BCRYPT_ROUNDS": 4,
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "ADMIN_EMAIL": "admin@bench.example",
            "ADMIN_PASSWORD": PASSWORD,
            "MAIL_OUTBOX_DIR": tempfile.mkdtemp(prefix="analytics-bench-mail-"),
        }
    )


def login(client, email, password=PASSWORD):
    response = client.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.json
    return {"Authorization": f"Bearer {response.json['token']}"}


def videos_of(owners):
    now = datetime.now(UTC)
    return [
        {
            "_id": ObjectId(),
            "owner_id": owners[n % CREATORS],
            "title": f"Bench video {n}",
            "status": "ready",
            "visibility": "public",
            "kind": "video",
            "created_at": now,
            "likes": n % 7,
            "dislikes": n % 3,
        }
        for n in range(VIDEOS)
    ]


def counters(videos, events, today):
    """{(video index, day): {views, unique_viewers, watch_seconds}} of ``events`` events:
    half views (each a unique viewer of its day), half progress reports of 10 s."""
    rng = random.Random(events)
    cells = {}
    for n in range(events):
        key = (
            rng.randrange(len(videos)),
            (today - timedelta(days=rng.randrange(DAYS))).isoformat(),
        )
        cell = cells.setdefault(key, {"views": 0, "unique_viewers": 0, "watch_seconds": 0})
        if n % 2:
            cell["watch_seconds"] += 10
        else:
            cell["views"] += 1
            cell["unique_viewers"] += 1
    return cells


def write_counters(database, videos, cells):
    """The day documents and the three monthly roll-ups (models.daily_stats.add) of ``cells``;
    the number of day documents."""
    per_video, months = [], {"video_months": {}, "owner_months": {}, "platform_months": {}}
    for (index, day), cell in cells.items():
        video = videos[index]
        per_video.append(
            {
                "_id": f"{video['_id']}:{day}",
                "video_id": video["_id"],
                "owner_id": video["owner_id"],
                "day": day,
                **cell,
            }
        )
        month = day[:7]
        for name, key, fields in (
            ("video_months", f"{video['_id']}:{month}", {"video_id": video["_id"]}),
            ("owner_months", f"{video['owner_id']}:{month}", {"owner_id": video["owner_id"]}),
            ("platform_months", month, {}),
        ):
            document = months[name].setdefault(
                key, {"_id": key, **fields, "month": month, "days": {}}
            )
            total = document["days"].setdefault(day[8:], {})
            for counter, value in cell.items():
                total[counter] = total.get(counter, 0) + value
    for name, documents in (
        ("video_days", per_video),
        *((name, list(found.values())) for name, found in months.items()),
    ):
        for start in range(0, len(documents), BATCH):
            database[name].insert_many(documents[start : start + BATCH], ordered=False)
    return len(per_video)


def prepare(server, events):
    """A fresh database with the videos and the counters of ``events``: (client, routes)."""
    from models.db import get_db

    uri = server.uri(f"analytics_bench_{events}_{int(time.time())}")
    app = make_app(uri)
    client = app.test_client()
    email = f"creator-{events}@bench.example"
    signed = client.post(
        "/auth/signup",
        json={"name": "Bench", "email": email, "password": PASSWORD, "role": "creator"},
    )
    assert signed.status_code == 201, signed.json
    creator = ObjectId(signed.json["user"]["id"])
    owners = [creator] + [ObjectId() for _ in range(CREATORS - 1)]
    videos = videos_of(owners)
    today = datetime.now(UTC).date()
    started = time.monotonic()
    cells = counters(videos, events, today)
    for (index, _), cell in cells.items():  # the running totals the video documents keep
        for name in ("views", "watch_seconds"):
            videos[index][name] = videos[index].get(name, 0) + cell[name]
    with app.app_context():
        database = get_db()
        database.videos.insert_many(videos)
        documents = write_counters(database, videos, cells)
    took = time.monotonic() - started
    print(f"{events:>9,} events: {documents:,} video-day documents written in {took:.1f} s")
    span = {"from": (today - timedelta(days=365)).isoformat(), "to": today.isoformat()}
    owner_headers = login(client, email)
    admin_headers = login(client, "admin@bench.example")
    routes = {
        "video 366 days": (f"/video/{videos[0]['_id']}/analytics", owner_headers),
        "creator (100 videos)": ("/analytics/creator", owner_headers),
        "admin": ("/analytics/admin", admin_headers),
    }
    return app, client, span, routes


def measure(sizes, calls):
    """[{row: p50 seconds}] per size. The sizes' calls alternate, row by row and round by
    round (after one warm-up round), so a change in the machine's load (other processes,
    the database still flushing) hits both sizes alike."""
    times = [{row: [] for row in routes} for _, _, _, routes in sizes]
    for round_ in range(calls + 1):
        for row in times[0]:
            order = range(len(sizes)) if round_ % 2 else reversed(range(len(sizes)))
            for index in order:  # which size goes first changes every round
                _, client, span, routes = sizes[index]
                path, headers = routes[row]
                started = time.perf_counter()
                response = client.get(path, query_string=span, headers=headers)
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, (row, response.json)
                if round_:
                    times[index][row].append(elapsed)
    return [{row: statistics.median(values) for row, values in found.items()} for found in times]


def main():
    args = parse_args()
    base = Path(tempfile.mkdtemp(prefix="analytics-bench-"))
    server = EmbeddedMongo(base / "data", log_path=base / "server.log")
    server.start()
    sizes = []
    try:
        sizes = [prepare(server, args.small), prepare(server, args.large)]
        waited, quiet = wait_until_quiet(server.process.pid)
        print(f"waited {waited:.0f} s for the database to go idle" + ("" if quiet else " (busy)"))
        small, large = measure(sizes, args.calls)
    finally:
        for app, *_ in sizes:
            app.extensions["mongo"].client.close()
        server.stop()
    print(f"\np50 of {args.calls} calls; {args.small:,} vs {args.large:,} events (goal <= {GOAL}x)")
    print(f"{'report':<22}{'small ms':>10}{'large ms':>10}{'ratio':>8}  goal")
    for row in small:
        ratio = large[row] / small[row]
        verdict = "ok" if ratio <= GOAL else "OVER"
        times = f"{small[row] * 1000:>10.1f}{large[row] * 1000:>10.1f}"
        print(f"{row:<22}{times}{ratio:>7.2f}x  {verdict}")


if __name__ == "__main__":
    main()
