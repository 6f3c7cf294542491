"""A tiny app that answers ranges of one file with web/file_body.py, under the guarded worker.

For tests/test_http_worker_sendfile.py: ``SendfileServer`` runs it with the
production gunicorn.conf.py (its ``GuardedThreadWorker``), one process, so
``/stats`` speaks for every response: how many file bodies were opened, how
many closed (their ``call_on_close`` hook ran), how many ``read()`` calls
they served (none when the worker used sendfile), the process's open
descriptors, the nice value of the thread that answered ``/stats`` and how
many bodies were closed at each thread nice value (the thread that sent the
body closes it: web/http_worker/senders.py). ``GET|HEAD /file?start=S&length=N``
answers a 206 of those bytes of ``SENDFILE_TEST_FILE`` with ``file_response``;
``/raw-file`` the same from plain WSGI, which hands the server its file wrapper
even for a HEAD (werkzeug would not), so the worker's own no-body rule is what
keeps the bytes back.
"""

import os
import sys
import threading
from pathlib import Path
from urllib.parse import parse_qsl

from flask import Flask, jsonify, request

from devtools.gunicorn_process import ROOT, GunicornProcess
from web import file_body

COUNTS = {"opened": 0, "closed": 0, "reads": 0}
CLOSED_AT_NICE = {}  # the closing thread's nice value -> bodies closed
LOCK = threading.Lock()


def count(name):
    with LOCK:
        COUNTS[name] += 1


def thread_nice():
    """This thread's nice value, as the kernel reports it (field 19 of its stat)."""
    with open("/proc/thread-self/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[16])


def count_closed():
    nice = thread_nice()
    with LOCK:
        COUNTS["closed"] += 1
        CLOSED_AT_NICE[nice] = CLOSED_AT_NICE.get(nice, 0) + 1


def _counted(read):
    """FileRange.read, counted: a server that iterates the body calls it; sendfile never."""

    def counted_read(self, size=-1):
        count("reads")
        return read(self, size)

    return counted_read


file_body.FileRange.read = _counted(file_body.FileRange.read)
app = Flask(__name__)


@app.get("/health")
def health():
    return "ok"


@app.get("/stats")
def stats():
    with LOCK:
        counts = dict(COUNTS, closed_at_nice=dict(CLOSED_AT_NICE))
    return jsonify({**counts, "fds": len(os.listdir("/proc/self/fd")), "nice": thread_nice()})


@app.route("/file", methods=["GET", "HEAD"])
def file():
    path = os.environ["SENDFILE_TEST_FILE"]
    size = os.path.getsize(path)
    start = int(request.args["start"])
    length = int(request.args["length"])
    headers = {"Content-Range": f"bytes {start}-{start + length - 1}/{size}"}
    file = open(path, "rb")  # noqa: SIM115 - the response closes it
    response = file_body.file_response(
        request.environ, file, start, length, 206, headers, "video/mp4"
    )
    count("opened")
    response.call_on_close(count_closed)
    return response


def open_range(query):
    """The FileRange ``query`` asks for, and its Content-Range."""
    path = os.environ["SENDFILE_TEST_FILE"]
    start, length = int(query["start"]), int(query["length"])
    content_range = f"bytes {start}-{start + length - 1}/{os.path.getsize(path)}"
    file = open(path, "rb")  # noqa: SIM115 - the FileRange closes it
    count("opened")
    return file_body.FileRange(file, start, length), content_range


def raw_file(environ, start_response):
    query = dict(parse_qsl(environ["QUERY_STRING"]))
    body, content_range = open_range(query)
    body.on_close.append(count_closed)
    headers = [("Content-Length", query["length"]), ("Content-Range", content_range)]
    start_response("206 Partial Content", headers)
    return environ["wsgi.file_wrapper"](body)


def application(environ, start_response):
    if environ["PATH_INFO"] == "/raw-file":
        return raw_file(environ, start_response)
    return app(environ, start_response)


def gunicorn_command(port, threads, extra_args=()):
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    return [
        *(gunicorn, "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"),
        *("--workers", "1", "--threads", str(threads), *extra_args),
        "tests.support.sendfile_app:application",
    ]


class SendfileServer(GunicornProcess):
    """This app under gunicorn.conf.py on a free port; ``extra_args`` e.g. --no-sendfile."""

    def __init__(self, base, file_path, threads=4, extra_args=()):
        env = {**os.environ, "SENDFILE_TEST_FILE": str(file_path), "PYTHONPATH": str(ROOT)}
        super().__init__(env, base / "gunicorn.log")
        self.command = gunicorn_command(self.port, threads, extra_args)
