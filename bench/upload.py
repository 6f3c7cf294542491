"""Upload benchmark: a ~500 MB video through POST /video/upload on gunicorn.

Prints (never asserts) two figures against the embedded database:
- the server's peak RSS increase during the upload (target: < 100 MB);
- the upload's wall time against GridFSBucket.upload_from_stream of the same
  bytes into the same database (target: within 1.5x).
Run: .venv/bin/python -m bench.upload [--mb 500]
"""

import argparse
import http.client
import tempfile
import time
import uuid
from pathlib import Path

import gridfs
from pymongo import MongoClient

from bench.common import EmbeddedMongo, Gunicorn, PeakSampler, tree_rss
from demo.synthetic_media import write_noise_video

MIB = 1024 * 1024


def make_small_video(path):
    from demo.synthetic_media import write_video

    return write_video(path, seconds=2)


def multipart_upload(port, token, path):
    """Stream a multipart body from disk with http.client; returns (status, seconds)."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nBench\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{path.name}"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + path.stat().st_size + len(tail)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    start = time.perf_counter()
    connection.putrequest("POST", "/video/upload")
    connection.putheader("Authorization", f"Bearer {token}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(length))
    connection.endheaders()
    connection.send(head)
    with open(path, "rb") as source:
        while block := source.read(MIB):
            connection.send(block)
    connection.send(tail)
    response = connection.getresponse()
    response.read()
    return response.status, time.perf_counter() - start


def direct_gridfs_seconds(uri, path):
    with MongoClient(uri) as client, open(path, "rb") as source:
        start = time.perf_counter()
        file_id = gridfs.GridFSBucket(client.get_default_database()).upload_from_stream(
            "direct", source
        )
        seconds = time.perf_counter() - start
        gridfs.GridFSBucket(client.get_default_database()).delete(file_id)
    return seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        tmp = Path(tmp)
        video = write_noise_video(tmp / "big.mp4", args.mb)
        size_mb = video.stat().st_size / MIB
        print(f"video: {size_mb:.0f} MiB")
        with EmbeddedMongo(tmp / "db", log_path=tmp / "db.log") as database:
            uri = database.uri("bench")
            server = Gunicorn(uri, extra_env={"MAX_UPLOAD_MB": str(args.mb * 2)})
            try:
                token = server.token_for("creator")
                # A warm-up upload first, so shared libraries paged in by the first
                # probe and thumbnail are not counted as upload memory.
                warm = make_small_video(tmp / "warm.mp4")
                multipart_upload(server.port, token, warm)
                time.sleep(3)
                before = tree_rss(server.process.pid)
                # The baseline runs first, on an idle server: after the upload,
                # processing would compete with it for the database.
                direct = direct_gridfs_seconds(uri, video)
                with PeakSampler(server.process.pid) as sampler:
                    status, upload_seconds = multipart_upload(server.port, token, video)
            finally:
                server.stop()
        print(f"upload status: {status}")
        print(
            f"server RSS before: {before / MIB:.1f} MiB, peak during upload: "
            f"{sampler.peak / MIB:.1f} MiB, increase: {(sampler.peak - before) / MIB:.1f} MiB "
            f"(target < 100)"
        )
        print(f"upload wall time: {upload_seconds:.2f} s ({size_mb / upload_seconds:.0f} MiB/s)")
        print(f"GridFSBucket.upload_from_stream: {direct:.2f} s ({size_mb / direct:.0f} MiB/s)")
        print(f"ratio upload / direct: {upload_seconds / direct:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
