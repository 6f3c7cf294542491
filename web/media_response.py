"""Media responses: 200, 206, multipart 206, 304 and 416, streamed from GridFS.

Built by hand rather than with ``send_file`` or ``make_conditional``: those
wrap the body in werkzeug's ``_RangeWrapper``, which reaches a range by
reading the file from byte 0 (and cannot seek a GridFS cursor), and they
answer 416 where docs/playback.md#range-requests wants the whole file (see services.byte_ranges).
werkzeug still decides 304s (``is_resource_modified``) and parses every
header; models.media_stream.read_range fetches only the chunks a range covers.
"""

import uuid
from datetime import UTC, datetime

from flask import Response, current_app, request
from werkzeug.http import http_date, is_resource_modified

from models.common import as_utc
from models.media_stream import StreamGate, read_range
from services import byte_ranges
from services.byte_ranges import ByteRange, Multipart
from services.errors import ServiceError


def init_app(app):
    """One gate per process: how its streams share MongoDB (models.media_stream)."""
    app.extensions["stream_gate"] = StreamGate(app.config["STREAM_DB_CONCURRENCY"])


class RangeNotSatisfiable(ServiceError):
    status = 416
    code = "range_not_satisfiable"
    message = "The requested range is outside the file."


class NotModified(Response):
    """A 304 that keeps ``Last-Modified``, as the contract wants of every media answer.

    werkzeug removes the entity headers of RFC 2616 from a 304 when it writes
    them out (``get_wsgi_headers``), ``Last-Modified`` among them, so setting
    it is not enough: it is put back here, on the way to the wire. RFC 9110
    (15.4.5) allows it; ETag and Cache-Control are kept by werkzeug itself.
    """

    def get_wsgi_headers(self, environ):
        headers = super().get_wsgi_headers(environ)
        last_modified = self.headers.get("Last-Modified")
        if last_modified is not None:
            headers["Last-Modified"] = last_modified
        return headers


def serve(playable):
    """The response to a GET or HEAD of ``playable`` (a services.playback.Playable)."""
    last_modified = as_utc(playable.file["uploadDate"]).replace(microsecond=0)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": playable.etag,
        "Last-Modified": http_date(last_modified),
        "Cache-Control": f"private, max-age={_max_age(playable.expires_at)}",
    }
    if not is_resource_modified(
        request.environ, etag=playable.etag, last_modified=last_modified, ignore_if_range=True
    ):
        return NotModified(status=304, headers=headers)
    ranges = byte_ranges.SERVE_WHOLE
    if byte_ranges.if_range_allows(request.headers.get("If-Range"), playable.etag, last_modified):
        ranges = byte_ranges.requested_ranges(request.headers.get("Range"), playable.size)
    if ranges == []:
        headers["Content-Range"] = byte_ranges.unsatisfiable_content_range(playable.size)
        raise RangeNotSatisfiable(headers=headers)
    if ranges is byte_ranges.SERVE_WHOLE:
        return _whole(playable, headers)
    if len(ranges) == 1:
        return _single(playable, ranges[0], headers)
    return _multipart(playable, ranges, headers)


def _max_age(expires_at):
    """Caches may keep the bytes no longer than the token that fetched them lives."""
    return max(int((expires_at - datetime.now(UTC)).total_seconds()), 0)


def _body(playable, byte_range):
    if byte_range.length <= 0 or request.method == "HEAD":
        return iter(())
    gate = current_app.extensions["stream_gate"]
    return read_range(playable.file, byte_range.start, byte_range.end, gate)


def _started(body):
    """``body`` with its first chunk already read, here, inside the request.

    A database that is away or a missing chunk then raises through Flask's
    error handlers (a JSON 503 or 500) instead of gunicorn's HTML page or a
    cut-off 206.
    """
    first = next(body, None)

    def rest():
        if first is not None:
            yield first
        yield from body

    return rest()


def _response(body, status, length, content_type, headers):
    # Not direct_passthrough: werkzeug then hands the server its own generator
    # and never calls Response.close(), so call_on_close hooks (the access log
    # line) would not run. Its ClosingIterator closes our generator (and so the
    # GridFS cursor) when the client is done or hangs up.
    response = Response(body, status=status, headers=headers)
    response.content_type = content_type
    response.content_length = length
    return response


def _whole(playable, headers):
    everything = ByteRange(0, playable.size - 1)
    body = _started(_body(playable, everything))
    return _response(body, 200, playable.size, playable.content_type, headers)


def _single(playable, byte_range, headers):
    headers["Content-Range"] = byte_range.content_range(playable.size)
    body = _started(_body(playable, byte_range))
    return _response(body, 206, byte_range.length, playable.content_type, headers)


def _multipart(playable, ranges, headers):
    framing = Multipart(uuid.uuid4().hex, playable.content_type, playable.size)
    bodies = [_body(playable, byte_range) for byte_range in ranges]  # resolved in the request
    bodies[0] = _started(bodies[0])

    def parts():
        for index, (byte_range, body) in enumerate(zip(ranges, bodies, strict=True)):
            yield framing.part_header(byte_range, first=index == 0)
            yield from body
        yield framing.closing()

    length = framing.content_length(ranges)
    return _response(parts(), 206, length, framing.media_type, headers)
