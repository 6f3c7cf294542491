"""HLS benchmark: issue 17's measured goals, on gunicorn (repo config) and the embedded database.

Processing runs the production way with workers: the API with ``PROCESSING_WORKERS=0`` (it only
queues) and one ``python worker.py`` (``PROCESSING_WORKERS=1``, as ``make worker``), so the
processing process tree is the worker and its sandboxed children, apart from the API's.
Prints (never asserts), in one run:
1. a 60 s 1080p30 H.264 + AAC upload (made with the ffmpeg CLI: moving test pattern plus
   noise, stored as is) through ``POST /video/upload``: the stages and progress seen on
   ``GET /video/{id}/status``, the time from the 202 to ``ready`` over the duration
   (goal <= 1.0x), the part in the ``hls`` stage with the ladder child's CPU time, and the
   ladder itself (``hls_url`` in the stream reply, the variants of the master playlist);
2. the peak RSS of the worker's process tree during the ``hls`` stage over its idle RSS before
   the upload (goal: + < 300 MB), sampled from /proc every 100 ms;
3. every segment of the top rendition through ``{rendition}/{n}.ts`` against Range requests of
   the same sizes through ``/video/{id}/media``, interleaved: MiB/s each, best of ``--rounds``
   (goal segments/media >= 0.95x), and the p50 time to the response head of each.
Run: .venv/bin/python -m bench.hls [--quick] [--rounds 5] [--sources DIR] [--noise 9]
(encoder settings come from the environment: HLS_X264_PRESET_HIGH=ultrafast ... to compare)
"""

import argparse
import itertools
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from bson import ObjectId
from pymongo import MongoClient

from bench.common import (
    EmbeddedMongo,
    Gunicorn,
    TreeSampler,
    Worker,
    cpu_split,
    timed_get,
    tree_now,
    wait_until_quiet,
)
from bench.stream import bearer, media_path
from bench.upload import multipart_upload
from config_hls import hls_settings

MIB = 1024 * 1024
POLL = 0.25  # seconds between two status polls
ENCODER = ("HLS_X264_PRESET", "HLS_X264_PRESET_HIGH", "HLS_CRF", "HLS_X264_THREADS")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s 720p source, 2 renditions")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of figure 3")
    parser.add_argument("--noise", type=int, default=9, help="noise strength (9: ~19 Mbit/s 1080p)")
    parser.add_argument("--sources", type=Path, help="a folder to keep the source in, and reuse")
    args = parser.parse_args()
    args.seconds, args.height, args.renditions = (10, 720, 2) if args.quick else (60, 1080, 3)
    return args


def make_source(path, seconds, height, noise):
    """H.264 (yuv420p) + AAC, moov first: what the progressive step stores as is. testsrc2
    moves; the temporal noise gives the ladder's x264 real work, as camera grain does."""
    width = height * 16 // 9
    video = f"testsrc2=size={width}x{height}:rate=30,noise=alls={noise}:allf=t"
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", video]
    command += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", str(seconds)]
    command += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]
    command += ["-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", str(path)]
    subprocess.run(command, check=True)


# --- 1. Upload to ready, stage by stage ---


def follow(server, token, video_id, worker_pid, sampler):
    """Poll the status until the video is no longer processing: (state, stages, end CPU)."""
    stages, deadline = [], time.perf_counter() + 900
    while time.perf_counter() < deadline:
        _, body = server.request("GET", f"/video/{video_id}/status", headers=bearer(token))
        state, now = json.loads(body), time.perf_counter() - sampler.origin
        if state["status"] != "processing":
            return state, stages, (now, cpu_split(worker_pid))
        if not stages or stages[-1]["name"] != state["stage"]:
            sampler.phase = state["stage"]
            stages.append({"name": state["stage"], "start": now, "cpu": cpu_split(worker_pid)})
            stages[-1]["progress"] = []
        stages[-1]["progress"].append(state["progress"])
        time.sleep(POLL)
    raise RuntimeError(f"video {video_id} still processing after 900 s")


def print_stages(stages, end, uploaded):
    print(f"   {'stage':<10} {'from':>7} {'wall':>7}  progress seen    worker CPU own + children")
    for stage, following in zip(stages, [*stages[1:], None], strict=True):
        until, cpu_after = (following["start"], following["cpu"]) if following else end
        own, reaped = (cpu_after[0] - stage["cpu"][0], cpu_after[1] - stage["cpu"][1])
        seen, wall = stage["progress"], until - stage["start"]
        print(
            f"   {stage['name']:<10} {stage['start'] - uploaded:6.1f}s {wall:6.1f}s"
            f"  {min(seen):.2f}-{max(seen):.2f} ({len(seen):3} polls)  {own:5.1f} + {reaped:5.1f} s"
        )


def figure_processing(args, source, stages, end, uploaded, sampler):
    ready, settings = end[0] - uploaded, hls_settings()
    print(
        f"\n1. processing a {args.seconds} s {args.height}p30 H.264 + AAC upload"
        f" ({source.stat().st_size * 8 / args.seconds / 1e6:.1f} Mbit/s), API with"
        f" PROCESSING_WORKERS=0 + one worker.py; HLS_MAX_RENDITIONS={args.renditions}, "
        + ", ".join(f"{name}={settings[name]}" for name in ENCODER)
    )
    print_stages(stages, end, uploaded)
    print(f"   202 -> ready: {ready:.1f} s = {ready / args.seconds:.2f}x the duration (goal <= 1)")
    hls = next((stage for stage in stages if stage["name"] == "hls"), None)
    children = [record for pid, record in sampler.seen.items() if pid != sampler.pid]
    if hls is not None and children:
        hls_wall, stored = end[0] - hls["start"], end[0] - children[-1]["last"]
        print(
            f"   hls stage: {hls_wall:.1f} s, {hls_wall / ready:.0%} of the time to ready; of it,"
            f" ~{stored:.1f} s after the ladder child (the last below) ended: encrypt + store"
        )
    for pid, record in sampler.seen.items():
        if pid != sampler.pid:  # the sandbox children: prepare, then the ladder's
            alive = record["last"] - record["first"]
            print(
                f"   child {pid}: from {record['first'] - uploaded:.1f} s, alive ~{alive:.1f} s,"
                f" CPU {record['cpu']:.1f} s ({record['cpu'] / max(alive, 0.1):.2f} cores),"
                f" peak RSS {record['rss'] / MIB:.0f} MiB"
            )


def check_ladder(server, token, video_id, expected):
    """The stream reply's hls_url and its master playlist: (master path, top rendition path)."""
    minted = media_path(server, token, video_id).split("token=", 1)[1]
    url = f"/video/{video_id}/stream?token={minted}"
    _, body = server.request("GET", url, headers=bearer(token))
    hls_url = json.loads(body).get("hls_url")
    if not hls_url:
        raise RuntimeError(f"no hls_url in the stream reply: {body[:300]!r}")
    parts = urlsplit(hls_url)
    master = f"{parts.path}?{parts.query}"
    status, text = server.request("GET", master)
    lines = text.decode().splitlines()
    variants = [
        (dict(a.split("=", 1) for a in line.split(":", 1)[1].split(",") if "=" in a), uri)
        for line, uri in itertools.pairwise(lines)
        if line.startswith("#EXT-X-STREAM-INF:")
    ]
    print(
        f"   hls_url in the stream reply; master playlist {status}, {len(variants)} variants"
        f" (expected {expected}):"
    )
    for attributes, _ in variants:
        rate = int(attributes["BANDWIDTH"]) / 1e6
        print(f"     {attributes['RESOLUTION']:>9}  peak {rate:.2f} Mbit/s")
    top = max(variants, key=lambda variant: int(variant[0]["RESOLUTION"].split("x")[1]))
    return master, urljoin(master, top[1])


# --- 2. Memory ---


def figure_memory(idle, sampler):
    print("\n2. RSS of the processing tree (worker.py and its children), sampled every 100 ms")
    print(f"   idle before the upload: {idle / MIB:.0f} MiB")
    for phase, (peak, members) in sampler.peaks.items():
        if phase == "idle":
            continue
        parts = ", ".join(
            f"{'worker' if pid == sampler.pid else 'child'} {rss / MIB:.0f}"
            for pid, rss in members.items()
        )
        more = peak - idle
        goal = f" = +{more / 1e6:.0f} MB (goal + < 300 MB)" if phase == "hls" else ""
        print(f"   peak in {phase:<9} {peak / MIB:5.0f} MiB (+{more / MIB:.0f} MiB: {parts}){goal}")


# --- 3. Segments against the media route ---


def segment_paths(server, playlist):
    status, text = server.request("GET", playlist)
    if status != 200:
        raise RuntimeError(f"media playlist: {status}")
    uris = [line for line in text.decode().splitlines() if line and not line.startswith("#")]
    return [urljoin(playlist, uri) for uri in uris]


def media_ranges(sizes, media_size):
    """Range headers of the same sizes as ``sizes``, laid end to end through the media file."""
    ranges, offset = [], 0
    for size in sizes:
        offset = offset if offset + size <= media_size else 0
        ranges.append({"Range": f"bytes={offset}-{offset + size - 1}"})
        offset += size
    return ranges


def one_round(port, segments, media, ranges, heads):
    """One pass over every segment, each followed by its media range: seconds of each kind."""
    took = {"segments": 0.0, "media": 0.0}
    for segment, header in zip(segments, ranges, strict=True):
        for kind, path, headers, ok in (
            ("segments", segment, None, 200),
            ("media", media, header, 206),
        ):
            status, _, head, seconds = timed_get(port, path, headers)
            if status != ok:
                raise RuntimeError(f"{kind} {path[:60]}: {status}")
            took[kind] += seconds
            heads[kind].append(head)
    return took


def figure_segments(server, token, video_id, playlist, media_size, rounds):
    segments = segment_paths(server, playlist)
    sizes = [timed_get(server.port, path)[1] for path in segments]  # and a warm-up
    media = media_path(server, token, video_id)
    ranges = media_ranges(sizes, media_size)
    heads = {"segments": [], "media": []}
    rates = {"segments": [], "media": []}
    for _ in range(rounds):  # interleaved: drift in the machine's load hits both kinds
        for kind, seconds in one_round(server.port, segments, media, ranges, heads).items():
            rates[kind].append(sum(sizes) / MIB / seconds)
    print(
        f"\n3. the top rendition's {len(segments)} segments ({sum(sizes) / MIB:.1f} MiB,"
        f" {statistics.mean(sizes) / MIB:.2f} MiB each) vs media ranges of the same sizes,"
        f" a new connection each, best of {rounds}"
    )
    for kind in rates:
        print(
            f"   {kind:<8} {max(rates[kind]):6.1f} MiB/s (all: "
            f"{', '.join(f'{rate:.0f}' for rate in rates[kind])}),"
            f" head p50 {statistics.median(heads[kind]) * 1000:.1f} ms"
        )
    ratio = max(rates["segments"]) / max(rates["media"])
    print(f"   ratio segments / media: {ratio:.2f} (goal >= 0.95)")


# --- The run ---


def run(server, worker, mongo, database, source, args):
    token = server.token_for("creator")
    wait_until_quiet(mongo.process.pid, server.process.pid, worker.process.pid)
    idle = sum(rss for rss, _ in tree_now(worker.process.pid).values())
    with TreeSampler(worker.process.pid) as sampler:
        status, _ = multipart_upload(server.port, token, source)
        uploaded = time.perf_counter() - sampler.origin
        if status != 202:
            raise RuntimeError(f"upload: {status}")
        video_id = str(database.videos.find_one({"original_filename": source.name})["_id"])
        state, stages, end = follow(server, token, video_id, worker.process.pid, sampler)
    figure_processing(args, source, stages, end, uploaded, sampler)
    if state["status"] != "ready":
        raise RuntimeError(f"processing ended {state}")
    _, top = check_ladder(server, token, video_id, args.renditions)
    figure_memory(idle, sampler)
    wait_until_quiet(mongo.process.pid, server.process.pid, worker.process.pid)
    video = database.videos.find_one({"_id": ObjectId(video_id)})
    media_size = database.fs.files.find_one({"_id": video["media_file_id"]})["length"]
    figure_segments(server, token, video_id, top, media_size, args.rounds)


def main():
    args = parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-hls-") as tmp:
        tmp = Path(tmp)
        source = (args.sources or tmp) / f"hls-{args.seconds}s-{args.height}p-{args.noise}.mp4"
        if not source.exists():
            make_source(source, args.seconds, args.height, args.noise)
            print(f"source made in {time.perf_counter() - started:.0f} s")
        settings = {"PROCESSING_WORKERS": "0", "HLS_MAX_RENDITIONS": str(args.renditions)}
        with EmbeddedMongo(tmp / "db", log_path=tmp / "db.log") as mongo:
            uri = mongo.uri("bench")
            server = Gunicorn(uri, workers=None, extra_env={**settings, "MAX_UPLOAD_MB": "1024"})
            worker = Worker(server, {"PROCESSING_WORKERS": "1", "WORKER_POLL_SECONDS": "1"})
            try:
                worker.wait_until_started()
                with MongoClient(uri) as client:
                    run(server, worker, mongo, client.get_default_database(), source, args)
            finally:
                worker.stop()
                server.stop()
    print(f"\n(whole run: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
