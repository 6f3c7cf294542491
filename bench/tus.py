"""Resumable-upload benchmark: a ~500 MB video through tus in 5 MB PATCHes against
POST /video/upload of the same file, on gunicorn and the embedded database.

Prints (never asserts), for each: the wall time from the first byte sent to the answer
carrying the video (tus: creation + every PATCH, the last one's probe included) and the
server's peak RSS increase meanwhile. Targets (docs/uploads.md): tus wall time <= 1.2x the
form upload's, RSS + < 100 MB.
Run: .venv/bin/python -m bench.tus [--mb 500] [--chunk-mb 5]
"""

import argparse
import base64
import http.client
import tempfile
import time
from pathlib import Path

from bench.common import EmbeddedMongo, Gunicorn, PeakSampler, tree_rss, wait_until_quiet
from bench.upload import make_small_video, multipart_upload
from demo.synthetic_media import write_noise_video

MIB = 1024 * 1024


def tus_upload(port, token, path, chunk):
    """Create, then PATCH ``chunk`` bytes at a time; returns (last status, seconds)."""
    size = path.stat().st_size
    headers = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    start = time.perf_counter()
    title = base64.b64encode(b"Bench").decode()
    status, reply = _request(
        port,
        "POST",
        "/uploads/",
        {**headers, "Upload-Length": str(size), "Upload-Metadata": f"title {title}"},
    )
    assert status == 201, status
    location = "/uploads/" + reply.getheader("Location").rsplit("/", 1)[1]
    offset = 0
    with open(path, "rb") as source:
        while offset < size:
            body = source.read(chunk)
            patch = {
                **headers,
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            }
            status, reply = _request(port, "PATCH", location, patch, body)
            if status != 204:
                return status, time.perf_counter() - start
            offset = int(reply.getheader("Upload-Offset"))
    return status, time.perf_counter() - start


def _request(port, method, path, headers, body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    try:
        connection.request(method, path, body=body, headers=headers)
        reply = connection.getresponse()
        reply.read()
        return reply.status, reply
    finally:
        connection.close()


def measured(server, upload):
    wait_until_quiet(server.process.pid)  # the previous upload's processing is over
    before = tree_rss(server.process.pid)
    with PeakSampler(server.process.pid) as sampler:
        status, seconds = upload()
    return status, seconds, (sampler.peak - before) / MIB


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--chunk-mb", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tus-") as tmp:
        tmp = Path(tmp)
        video = write_noise_video(tmp / "big.mp4", args.mb)
        size_mb = video.stat().st_size / MIB
        print(f"video: {size_mb:.0f} MiB, tus PATCHes of {args.chunk_mb} MiB")
        with EmbeddedMongo(tmp / "db", log_path=tmp / "db.log") as database:
            # No processing in the API: its transcode would compete with the second upload.
            env = {"MAX_UPLOAD_MB": str(args.mb * 2), "PROCESSING_WORKERS": "0"}
            server = Gunicorn(database.uri("bench"), extra_env=env)
            try:
                token = server.token_for("creator")
                # Warm-up: shared libraries paged in by the first probe are not upload memory.
                multipart_upload(server.port, token, make_small_video(tmp / "warm.mp4"))
                tus_upload(server.port, token, make_small_video(tmp / "warm2.mp4"), MIB)
                form = measured(server, lambda: multipart_upload(server.port, token, video))
                chunk = args.chunk_mb * MIB
                tus = measured(server, lambda: tus_upload(server.port, token, video, chunk))
            finally:
                server.stop()
    for name, (status, seconds, rss) in (("POST /video/upload", form), ("tus", tus)):
        print(f"{name}: status {status}, {seconds:.2f} s, server RSS +{rss:.1f} MiB")
    print(f"tus / form wall time: {tus[1] / form[1]:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
