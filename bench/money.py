"""Money benchmark (issue 15): the watch rule's cost on the media route, and purchases.

Prints (never asserts), in one run on gunicorn (repo config, 2+ workers) and the embedded
database:
1. the media route on identical videos (same bytes) that differ only in access: `free`
   (the reference), `paid` bought through the sandbox (the watch rule looks up priced
   courses and purchases) and `subscribers` with an active subscription. First byte of
   `Range: bytes=0-1` (p50, p95; goal paid/free p50 <= 1.2) and whole-file throughput
   (best of N; goal paid/free >= 0.95); then the database commands of one media request
   of each, counted in-process with pymongo's command monitoring;
2. POST /purchases round trip with the sandbox (pm_card_visa, one priced course each),
   p50 and p95, against GET /auth/me measured in the same run;
3. concurrent purchases: K idempotency keys, R requests each fired at once from threads,
   each key for its own course; then, in MongoDB, the sandbox charges, purchases and ledger
   sales per key (goal: exactly one of each), and the answers (201 identical, 409
   idempotency_in_progress).
Run: .venv/bin/python -m bench.money [--quick] [--mb 30] [--requests 300] [--workers N]
"""

import argparse
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

from bson import ObjectId
from pymongo import MongoClient

from bench import money_world as world
from bench.common import EmbeddedMongo, Gunicorn, percentile, stream_get, wait_until_quiet
from bench.scale import first_byte

MIB = 1024 * 1024
FIRST_BYTE_GOAL, THROUGHPUT_GOAL = 1.2, 0.95


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 MB, few iterations")
    parser.add_argument("--mb", type=int, help="size of the three videos (default 30)")
    parser.add_argument("--requests", type=int, help="first-byte requests per video (300)")
    parser.add_argument("--rounds", type=int, help="whole-file downloads per video (5)")
    parser.add_argument("--purchases", type=int, help="purchases timed in 2 (100)")
    parser.add_argument("--keys", type=int, default=10, help="idempotency keys in 3")
    parser.add_argument("--per-key", type=int, default=5, help="requests per key in 3")
    parser.add_argument("--workers", type=int, help="default: gunicorn.conf.py's (2+)")
    args = parser.parse_args()
    defaults = (5, 40, 2, 20) if args.quick else (30, 300, 5, 100)
    args.mb = args.mb or defaults[0]
    args.requests = args.requests or defaults[1]
    args.rounds = args.rounds or defaults[2]
    args.purchases = args.purchases or defaults[3]
    return args


def ms(seconds):
    return f"{seconds * 1000:6.2f} ms"


def verdict(ok):
    return "PASS" if ok else "MISS"


# --- 1. The media route: free vs paid (bought) vs subscribers (subscribed) ---


def make_videos(server, tmp, mb):
    """Three uploads of the same bytes; {access: video id}, the creator's and viewer's
    tokens. The viewer buys the paid one and subscribes to the creator."""
    from demo.synthetic_media import write_noise_video  # PyAV: only here

    source = write_noise_video(tmp / "money.mp4", mb)
    creator, creator_id = world.account(server, "creator")
    viewer, _ = world.account(server, "viewer")
    ids = {}
    for access, fields in (
        ("free", {}),
        ("paid", {"access": "paid", "price": 499}),
        ("subscribers", {"access": "subscribers"}),
    ):
        copy = shutil.copyfile(source, tmp / f"money-{access}.mp4")
        ids[access] = world.upload(server.port, creator, copy, **fields)
    world.wait_ready(server, creator, ids.values())
    world.buy(server, viewer, uuid.uuid4().hex, video_id=ids["paid"])
    world.subscribe(server, creator, creator_id, viewer)
    return ids, viewer


def figure_first_byte(server, paths, requests):
    for _ in range(5):  # warm-up: connections, the first-use view count, caches
        for path in paths.values():
            first_byte(server.port, path)
    timings = {label: [] for label in paths}
    order = list(paths)
    for index in range(requests):  # interleaved, the order reversed every other time
        for label in order if index % 2 == 0 else reversed(order):
            timings[label].append(first_byte(server.port, paths[label]))
    print(f"\n1a. media first byte, Range: bytes=0-1 ({requests} each, interleaved)")
    base = statistics.median(timings["free"])
    for label, seconds in timings.items():
        p50, p95 = statistics.median(seconds), percentile(seconds, 0.95)
        ratio = "" if label == "free" else f"   p50 ratio {label}/free {p50 / base:.2f}"
        print(f"   {label:<12} p50 {ms(p50)}  p95 {ms(p95)}{ratio}")
    paid = statistics.median(timings["paid"]) / base
    print(f"   goal paid/free p50 <= {FIRST_BYTE_GOAL}: {paid:.2f} {verdict(paid <= 1.2)}")
    return timings


def figure_throughput(server, paths, size, rounds):
    seconds = {label: [] for label in paths}
    order = list(paths)
    for index in range(rounds):
        for label in order if index % 2 == 0 else reversed(order):
            status, received, took = stream_get(server.port, paths[label])
            if (status, received) != (200, size):
                raise world.BenchError(f"{label} download: {status}, {received} of {size}")
            seconds[label].append(took)
    print(f"\n1b. whole file, {size / MIB:.1f} MiB (best of {rounds}, interleaved)")
    best = {label: size / MIB / min(took) for label, took in seconds.items()}
    for label, rate in best.items():
        rates = ", ".join(f"{size / MIB / s:.0f}" for s in seconds[label])
        ratio = "" if label == "free" else f"   ratio {label}/free {rate / best['free']:.2f}"
        print(f"   {label:<12} {rate:7.1f} MiB/s (all: {rates}){ratio}")
    paid = best["paid"] / best["free"]
    print(f"   goal paid/free >= {THROUGHPUT_GOAL}: {paid:.2f} {verdict(paid >= 0.95)}")


def figure_commands(uri, paths):
    found = world.commands_per_media_request(uri, paths)
    print("\n1c. where a media request's time goes: the app in this process (no HTTP server),")
    print("    pymongo command monitoring; medians of 31 bytes=0-1 requests each")
    base = None
    for label, (seconds, commands) in found.items():
        db_ms = sum(statistics.median(micros) for micros in commands.values()) / 1000
        count = sum(len(micros) for micros in commands.values()) / len(seconds)
        request_ms = statistics.median(seconds) * 1000
        base = base or (request_ms, db_ms)
        print(
            f"   {label:<12} request {request_ms:5.2f} ms (+{request_ms - base[0]:5.2f}),"
            f" {count:.0f} database commands, {db_ms:5.2f} ms in them (+{db_ms - base[1]:5.2f})"
        )
        listed = ", ".join(
            f"{coll or name} {statistics.median(micros) / 1000:.2f}"
            for (name, coll), micros in sorted(commands.items())
        )
        print(f"      ms per command: {listed}")


# --- 2. Purchase round trip against /auth/me ---


def figure_purchase_latency(server, creator, viewer, count):
    courses = world.priced_courses(server, creator, count + 3)
    for course_id in courses[:3]:  # warm-up
        world.buy(server, viewer, uuid.uuid4().hex, course_id=course_id)
    bought, me = [], []
    for course_id in courses[3:]:
        bought.append(world.buy(server, viewer, uuid.uuid4().hex, course_id=course_id)[0])
        me.append(world.call(server, "GET", "/auth/me", viewer)[0])
    print(f"\n2. POST /purchases (sandbox, pm_card_visa, a new course each), {count} sequential")
    p50, me50 = statistics.median(bought), statistics.median(me)
    print(f"   POST /purchases p50 {ms(p50)}  p95 {ms(percentile(bought, 0.95))}")
    print(f"   GET /auth/me    p50 {ms(me50)}  p95 {ms(percentile(me, 0.95))}  (reference)")
    print(f"   ratio purchase p50 / me p50: {p50 / me50:.1f} (no goal)")


# --- 3. Concurrent purchases with repeated idempotency keys ---


def fire(server, token, plan):
    """Every (key, course) of ``plan`` at once, one thread each; [(key, status, body)]."""
    barrier, answers, lock = threading.Barrier(len(plan)), [], threading.Lock()

    def one(key, course_id):
        barrier.wait()
        body = {"course_id": course_id, "payment_method": "pm_card_visa"}
        headers = {**world.bearer(token), "Idempotency-Key": key}
        status, data = server.request("POST", "/purchases", body, headers)
        with lock:
            answers.append((key, status, data))

    threads = [threading.Thread(target=one, args=pair) for pair in plan]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def figure_idempotency(server, database, creator, keys, per_key):
    viewer, viewer_id = world.account(server, "viewer")
    courses = world.priced_courses(server, creator, keys)
    key_of = {course_id: f"bench-{uuid.uuid4().hex}" for course_id in courses}
    plan = [(key, course_id) for course_id, key in key_of.items() for _ in range(per_key)]
    charges_before = database.sandbox_payments.count_documents({})
    start = time.perf_counter()
    answers = fire(server, viewer, plan)
    took = time.perf_counter() - start
    print(f"\n3. {len(plan)} concurrent POST /purchases: {keys} keys x {per_key}, a course each")
    print(f"   all answered in {took * 1000:.0f} ms")
    statuses = Counter(status for _, status, _ in answers)
    codes = Counter(world.error_code(data) for _, status, data in answers if status != 201)
    print(f"   answers: {dict(sorted(statuses.items()))}  non-201 codes: {dict(codes)}")
    bodies = defaultdict(set)
    for key, status, data in answers:
        if status == 201:
            bodies[key].add(data)
    same = all(len(found) == 1 for found in bodies.values())
    print(f"   201 answers of a key all the same body: {same} ({len(bodies)} keys answered 201)")
    ok = count_money(database, viewer_id, key_of, "right after the answers")
    waited, received = time.monotonic(), 0
    while time.monotonic() - waited < 60:  # the sandbox's webhooks, delivered in the background
        received = events(database, viewer_id, key_of)
        if received >= keys and not database.sandbox_webhooks.count_documents({}):
            break
        time.sleep(0.25)
    waited = time.monotonic() - waited
    print(f"   webhook events the API recorded about these payments: {received} ({waited:.1f} s)")
    ok = count_money(database, viewer_id, key_of, "after the webhooks") and ok
    delta = database.sandbox_payments.count_documents({}) - charges_before
    print(f"   sandbox payments made during 3: {delta} (expected {keys})")
    print(f"   goal one charge, one purchase, one ledger sale per key: {verdict(ok and same)}")


def events(database, viewer_id, key_of):
    """How many webhook events the API recorded (webhook_events) about the charges of 3."""
    items = [ObjectId(course_id) for course_id in key_of]
    query = {"user_id": ObjectId(viewer_id), "item.id": {"$in": items}}
    payments = [p["payment_id"] for p in database.purchases.find(query) if p.get("payment_id")]
    return sum(
        database.webhook_events.count_documents({"_id": {"$regex": f"^evt_{payment}_"}})
        for payment in payments
    )


def count_money(database, viewer_id, key_of, when):
    per_key = []
    for course_id, key in key_of.items():
        item = {"item.id": {"$in": [ObjectId(course_id), course_id]}}
        purchases = list(database.purchases.find({"user_id": ObjectId(viewer_id), **item}))
        charge_keys = [f"purchase:{p['_id']}:charge" for p in purchases]
        charges = database.sandbox_payments.count_documents(
            {"idempotency_key": {"$in": charge_keys}}
        )
        sales = database.ledger.count_documents({**item, "kind": "sale"})
        records = database.idempotency_keys.count_documents(
            {"user_id": {"$in": [ObjectId(viewer_id), viewer_id]}, "key": key}
        )
        per_key.append((charges, len(purchases), sales, records))
    counts = Counter(per_key)
    print(f"   {when}: (charges, purchases, ledger sales, key records) per key: {dict(counts)}")
    return set(counts) == {(1, 1, 1, 1)}


def run(server, database, uri, tmp, args):
    pid = server.process.pid
    workers = len(Path(f"/proc/{pid}/task/{pid}/children").read_text().split())
    print(f"gunicorn: {workers} workers; videos of {args.mb} MB")
    ids, viewer = make_videos(server, tmp, args.mb)
    settled, quiet = wait_until_quiet(pid)
    print(f"waited {settled:.0f} s for gunicorn to go idle after the uploads (quiet: {quiet})")
    paths = {access: world.media_path(server, viewer, ids[access]) for access in ids}
    size = database.fs.files.find_one(
        {"_id": database.videos.find_one({"_id": ObjectId(ids["free"])})["media_file_id"]}
    )["length"]
    figure_first_byte(server, paths, args.requests)
    figure_throughput(server, paths, size, args.rounds)
    figure_commands(uri, paths)
    creator, _ = world.account(server, "creator")
    figure_purchase_latency(server, creator, viewer, args.purchases)
    figure_idempotency(server, database, creator, args.keys, args.per_key)


def main():
    args = parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-money-") as tmp:
        tmp = Path(tmp)
        with EmbeddedMongo(tmp / "db", log_path=tmp / "db.log") as mongo:
            uri = mongo.uri("bench")
            extra = {"MAX_UPLOAD_MB": str(args.mb * 2 + 10)}
            server = Gunicorn(uri, workers=args.workers, extra_env=extra)
            try:
                with MongoClient(uri) as client:
                    run(server, client.get_default_database(), uri, tmp, args)
            finally:
                server.stop()
    print(f"\n(whole run: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
