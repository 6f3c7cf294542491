"""Resumable upload benchmark (issue 18): tus 1.0 in 5 MB chunks against POST /video/upload.

One synthetic video (500 MB by default, made once and kept, bench/media_servers.py) is uploaded
to gunicorn (repo config) on the embedded database twice: through ``/uploads/`` with tuspy
(creation, then PATCHes of ``--chunk-mb``; ``--checksum`` adds tus's sha1 checksum to each)
and through ``POST /video/upload`` (multipart streamed from disk, bench/upload.py), in
alternating order over ``--rounds``. ``PROCESSING_WORKERS=0``: the API only queues the video,
so neither upload's time or memory includes the other's processing. Before each, the database
and gunicorn are left to go idle. Prints (never asserts):
- wall time of each (best of the rounds), ratio tus / multipart (goal <= 1.2x);
- gunicorn's peak RSS increase (master + workers, every 10 ms) during each upload over its
  RSS just before (goal for tus: < +100 MB).
A server without the tus route (``/uploads/`` answers 404) is skipped with a message.
Run: .venv/bin/python -m bench.tus [--mb 500] [--chunk-mb 5] [--rounds 1] [--checksum]
"""

import argparse
import tempfile
import time
from pathlib import Path

from tusclient.client import TusClient
from tusclient.exceptions import TusCommunicationError

from bench.common import EmbeddedMongo, Gunicorn, PeakSampler, tree_rss, wait_until_quiet
from bench.media_servers import MIB, kept_video
from bench.stream import bearer
from bench.upload import make_small_video, multipart_upload

TUS_HEADERS = {"Tus-Resumable": "1.0.0"}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=500, help="the video's size, MiB")
    parser.add_argument("--chunk-mb", type=int, default=5, help="bytes per PATCH, MiB")
    parser.add_argument("--rounds", type=int, default=1, help="uploads of each kind")
    parser.add_argument("--checksum", action="store_true", help="Upload-Checksum (sha1)")
    parser.add_argument("--workers", type=int, help="default: gunicorn.conf.py's")
    return parser.parse_args()


def tus_route_status(server, token):
    """OPTIONS /uploads/ (tus's discovery request): 404 while the route does not exist."""
    status, _ = server.request("OPTIONS", "/uploads/", headers={**bearer(token), **TUS_HEADERS})
    return status


def tus_upload(port, token, path, args):
    """tuspy's Uploader: (seconds, the last answer's Video-Id or None)."""
    client = TusClient(f"http://127.0.0.1:{port}/uploads/", headers=bearer(token))
    uploader = client.uploader(
        file_path=str(path),
        chunk_size=args.chunk_mb * MIB,
        metadata={"title": f"Bench tus {path.name}"},
        upload_checksum=args.checksum,
    )
    start = time.perf_counter()
    try:
        uploader.upload()
    except TusCommunicationError as error:  # TusUploadFailed too: the server's answer
        answer = f"{error.status_code} {error.response_content!r}"
        raise SystemExit(f"tus upload failed: {answer}") from error
    seconds = time.perf_counter() - start
    return seconds, uploader.request.response_headers.get("video-id")


def multipart(port, token, path, _args):
    status, seconds = multipart_upload(port, token, path)
    if status != 202:
        raise SystemExit(f"POST /video/upload: {status}")
    return seconds, None


KINDS = {"tus": tus_upload, "multipart": multipart}


def measured(server, db_pid, kind, token, video, args):
    """One upload of ``kind`` on an idle server: (seconds, RSS increase, Video-Id)."""
    wait_until_quiet(db_pid, server.process.pid)
    before = tree_rss(server.process.pid)
    with PeakSampler(server.process.pid) as sampler:
        seconds, video_id = KINDS[kind](server.port, token, video, args)
    return seconds, sampler.peak - before, video_id


def run(server, db_pid, token, video, warm, args):
    # A small upload of each kind first: libraries paged in by the first probe are not
    # upload memory, and each route's first-request costs are not its time.
    for kind in KINDS:
        KINDS[kind](server.port, token, warm, args)
    results = {kind: [] for kind in KINDS}
    for round_ in range(args.rounds):
        order = list(KINDS) if round_ % 2 else list(KINDS)[::-1]  # multipart first, then tus
        for kind in order:
            results[kind].append(measured(server, db_pid, kind, token, video, args))
    report(results, video.stat().st_size, args)


def report(results, size, args):
    checksum = ", sha1 checksum on each" if args.checksum else ""
    print(f"\n{size / MIB:.0f} MiB, tus in {args.chunk_mb} MiB PATCHes{checksum}")
    best = {}
    for kind, runs in results.items():
        best[kind] = min(seconds for seconds, _, _ in runs)
        times = ", ".join(f"{seconds:.1f}" for seconds, _, _ in runs)
        growth = ", ".join(f"{grown / MIB:+.0f}" for _, grown, _ in runs)
        print(
            f"   {kind:9} {best[kind]:7.2f} s ({size / MIB / best[kind]:.0f} MiB/s; all: {times}),"
            f" server RSS {growth} MiB"
        )
    print(f"   wall time tus / multipart: {best['tus'] / best['multipart']:.2f}  (goal <= 1.2)")
    grown = max(grown for _, grown, _ in results["tus"])
    print(f"   server RSS increase during tus: {grown / MIB:+.0f} MiB  (goal < +100)")
    ids = [video_id for _, _, video_id in results["tus"]]
    print(f"   Video-Id on the last PATCH: {', '.join(str(x) for x in ids)}")


def main():
    args = parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-tus-") as tmp:
        tmp = Path(tmp)
        with EmbeddedMongo(tmp / "db", log_path=tmp / "db.log") as mongo:
            env = {"MAX_UPLOAD_MB": str(args.mb * 2), "PROCESSING_WORKERS": "0"}
            env["MEDIA_CACHE_MB"] = "0"  # no media is read: no cache (development's default)
            server = Gunicorn(mongo.uri("bench"), workers=args.workers, extra_env=env)
            try:
                token = server.token_for("creator")
                status = tus_route_status(server, token)
                if status == 404:
                    print(
                        "SKIPPED: OPTIONS /uploads/ answers 404: this server has no tus route yet"
                    )
                    return
                print(f"OPTIONS /uploads/: {status}; PROCESSING_WORKERS=0 (uploads only queued)")
                video, warm = kept_video(args.mb), make_small_video(tmp / "warm.mp4")
                run(server, mongo.process.pid, token, video, warm, args)
            finally:
                server.stop()
    print(f"\n(whole run: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
