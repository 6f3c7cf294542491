"""web/file_body.py: a byte range of an open file as a response body, and its close hooks.

Under werkzeug's test client, which offers no ``wsgi.file_wrapper`` and so
iterates the body with ``read()``; the guarded worker's sendfile of the same
bodies is tested by tests/test_http_worker_sendfile.py.
"""

import io
import logging
import random

import pytest
from flask import Flask, request

from web.file_body import FileRange, file_response

DATA = random.Random(18).randbytes(100_000)


class Closable(io.BytesIO):
    def fileno(self):
        return 42


def test_a_file_range_reads_nothing_past_its_end():
    body = FileRange(io.BytesIO(DATA[:1000]), 100, 50)
    assert body.read(20) == DATA[100:120]
    assert body.read(1000) == DATA[120:150]
    assert body.read(10) == b""
    assert FileRange(io.BytesIO(DATA[:1000]), 990, 10).read() == DATA[990:1000]


def test_closing_a_file_range_closes_the_file_and_runs_each_hook_once():
    file, calls = Closable(DATA[:10]), []
    body = FileRange(file, 0, 10)
    body.on_close += [lambda: calls.append("a"), lambda: 1 / 0, lambda: calls.append("c")]
    assert body.fileno() == 42
    with pytest.raises(ZeroDivisionError):  # a failing hook is reported, after the others ran
        body.close()
    body.close()
    assert file.closed and calls == ["a", "c"]


@pytest.fixture
def file_app(tmp_path):
    """A Flask app answering a range of a file with file_response, and its closed-hook log."""
    path = tmp_path / "media.bin"
    path.write_bytes(DATA[:100_000])
    app, closed = Flask(__name__), []

    @app.route("/range", methods=["GET", "HEAD"])
    def answer():
        start, length = int(request.args["start"]), int(request.args["length"])
        file = open(path, "rb")  # noqa: SIM115 - the response closes it
        return file_response(request.environ, file, start, length, 206, {}, "video/mp4")

    @app.after_request
    def log_on_close(response):  # as web/logs.py registers the access line
        method = request.method
        response.call_on_close(lambda: closed.append(method))
        return response

    return app, closed


@pytest.mark.parametrize(("start", "length"), [(0, 1), (99_999, 1), (1234, 50_000), (0, 100_000)])
def test_file_response_answers_the_range(file_app, start, length):
    app, closed = file_app
    response = app.test_client().get(f"/range?start={start}&length={length}")
    assert response.status_code == 206
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Content-Length"] == str(length)
    assert response.get_data() == DATA[start : start + length]
    response.close()
    assert closed == ["GET"]


def test_file_response_to_a_head_has_no_body_and_still_runs_its_hooks(file_app):
    app, closed = file_app
    response = app.test_client().head("/range?start=10&length=500")
    assert response.headers["Content-Length"] == "500"
    assert response.get_data() == b""
    response.close()
    assert closed == ["HEAD"]


def test_the_apps_own_hooks_run_on_a_file_response(app, tmp_path):
    """create_app's after_request hooks take a file response as it is; its access line
    (web/logs.py, a call_on_close hook) is written when the body is closed."""
    path = tmp_path / "media.bin"
    path.write_bytes(DATA[:5000])

    def answer():
        file = open(path, "rb")  # noqa: SIM115 - the response closes it
        return file_response(request.environ, file, 100, 200, 206, {}, "video/mp4")

    app.add_url_rule("/test-file", view_func=answer)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger("access").addHandler(handler)
    try:
        response = app.test_client().get("/test-file", headers={"X-Request-ID": "file-1"})
        assert response.get_data() == DATA[100:300]
        assert response.headers["X-Request-ID"] == "file-1"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert stream.getvalue() == ""  # not before the body is done
        response.close()
    finally:
        logging.getLogger("access").removeHandler(handler)
    assert stream.getvalue() == "GET /test-file 206\n"
