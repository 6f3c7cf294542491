"""The media route's answer: Range planning, then a 200, 206, multipart 206, 304 or 416.

Built by hand rather than with ``send_file`` or ``make_conditional``: those
wrap the body in werkzeug's ``_RangeWrapper``, which reaches a range by
reading the file from byte 0 (and cannot seek a GridFS cursor), and they
answer 416 where docs/playback.md#range-requests wants the whole file.
werkzeug still decides 304s (``is_resource_modified``) and parses every
header; the chunk reader the route hands in (models.media_chunks.MediaChunks)
fetches only the chunks a range covers.

Range planning (pure functions, no Flask) covers where werkzeug's
``Range.range_for_length`` and ``make_conditional`` break the contract: they
answer 416 to several ranges, to a suffix longer than the file and to an
unknown unit (the contract wants the whole file or a multipart answer), they
read a ``bytes=-0`` as malformed (RFC 9110 14.1.2: unsatisfiable, so 416),
and ``parse_if_range_header`` drops the ``W/`` of a weak validator, which
must never match (RFC 9110 13.1.5: If-Range compares strongly).
"""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Response, request
from werkzeug.http import (
    http_date,
    is_resource_modified,
    parse_if_range_header,
    parse_range_header,
)

from models.common import as_utc
from services.errors import ServiceError

# Past this many parts (after merging), a multi-range request gets the whole
# file: a thousand one-byte ranges must not cost a thousand part headers.
MAX_PARTS = 16
SERVE_WHOLE = None  # requested_ranges' answer when Range is absent, malformed or ignored


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self):
        return self.end - self.start + 1

    def content_range(self, size):
        return f"bytes {self.start}-{self.end}/{size}"


def unsatisfiable_content_range(size):
    return f"bytes */{size}"


def requested_ranges(range_header, size):
    """What a Range header asks of a ``size``-byte file.

    ``SERVE_WHOLE`` (None): no Range, a malformed one, or another unit: 200.
    ``[]``: nothing satisfiable: 416. Otherwise the satisfiable ranges,
    sorted and merged where they overlap or touch: one → 206, several →
    206 multipart/byteranges.
    """
    if not range_header:
        return SERVE_WHOLE
    if _is_zero_suffix(range_header):
        return []
    parsed = parse_range_header(range_header)
    if parsed is None or parsed.units != "bytes":
        return SERVE_WHOLE
    ranges = [r for r in (_clip(begin, end, size) for begin, end in parsed.ranges) if r]
    merged = _merge(ranges)
    return SERVE_WHOLE if len(merged) > MAX_PARTS else merged


# HTTP whitespace only: NBSP or a form feed around it makes the header malformed (ignored).
ZERO_SUFFIX = re.compile(r"^[ \t]*bytes[ \t]*=[ \t]*-[ \t]*0+[ \t]*$", re.IGNORECASE)


def _is_zero_suffix(range_header):
    """``bytes=-0``: well formed, but asks for no byte at all."""
    return ZERO_SUFFIX.match(range_header) is not None


def _clip(begin, end_exclusive, size):
    """One werkzeug range as a ByteRange within the file, or None when unsatisfiable."""
    if begin < 0:  # suffix: the last -begin bytes; longer than the file means all of it
        return ByteRange(max(size + begin, 0), size - 1) if size else None
    if begin >= size:
        return None
    end = size if end_exclusive is None else min(end_exclusive, size)
    return ByteRange(begin, end - 1)


def _merge(ranges):
    merged = []
    for current in sorted(ranges, key=lambda r: r.start):
        if merged and current.start <= merged[-1].end + 1:
            last = merged.pop()
            current = ByteRange(last.start, max(last.end, current.end))
        merged.append(current)
    return merged


def if_range_allows(if_range_header, etag, last_modified):
    """True when If-Range is absent or still names this representation.

    ``etag`` is the quoted strong ETag; ``last_modified`` an aware datetime.
    A date matches only when it equals Last-Modified to the second.
    """
    if not if_range_header:
        return True
    value = if_range_header.strip()
    if value.startswith("W/"):
        return False
    if value.startswith('"'):
        return value == etag
    date = parse_if_range_header(value).date
    return date is not None and http_date(date) == http_date(last_modified)


@dataclass(frozen=True)
class Multipart:
    """The framing of a multipart/byteranges body (RFC 9110 14.6)."""

    boundary: str
    content_type: str
    size: int

    @property
    def media_type(self):
        return f"multipart/byteranges; boundary={self.boundary}"

    def part_header(self, byte_range, first):
        lead = "" if first else "\r\n"
        return (
            f"{lead}--{self.boundary}\r\n"
            f"Content-Type: {self.content_type}\r\n"
            f"Content-Range: {byte_range.content_range(self.size)}\r\n\r\n"
        ).encode("latin-1")

    def closing(self):
        return f"\r\n--{self.boundary}--\r\n".encode("latin-1")

    def content_length(self, ranges):
        headers = sum(len(self.part_header(r, i == 0)) for i, r in enumerate(ranges))
        return headers + sum(r.length for r in ranges) + len(self.closing())


# The response, from the plan above.


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


def serve(playable, chunks):
    """The response to a GET or HEAD of ``playable`` (a services.playback.Playable).

    ``chunks`` (a models.media_chunks.MediaChunks) reads the bytes.
    """
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
    ranges = SERVE_WHOLE
    if if_range_allows(request.headers.get("If-Range"), playable.etag, last_modified):
        ranges = requested_ranges(request.headers.get("Range"), playable.size)
    if ranges == []:
        headers["Content-Range"] = unsatisfiable_content_range(playable.size)
        raise RangeNotSatisfiable(headers=headers)
    if ranges is SERVE_WHOLE:
        return _whole(playable, chunks, headers)
    if len(ranges) == 1:
        return _single(playable, chunks, ranges[0], headers)
    return _multipart(playable, chunks, ranges, headers)


def _max_age(expires_at):
    """Caches may keep the bytes no longer than the token that fetched them lives."""
    return max(int((expires_at - datetime.now(UTC)).total_seconds()), 0)


def _body(playable, chunks, byte_range):
    if byte_range.length <= 0 or request.method == "HEAD":
        return iter(())
    return chunks.read(playable.file, byte_range.start, byte_range.end)


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


def _whole(playable, chunks, headers):
    everything = ByteRange(0, playable.size - 1)
    if hasattr(
        chunks, "respond"
    ):  # a local copy: sent with sendfile (blueprints/common/stored_bytes.py)
        return chunks.respond(everything, 200, headers, playable.content_type)
    body = _started(_body(playable, chunks, everything))
    return _response(body, 200, playable.size, playable.content_type, headers)


def _single(playable, chunks, byte_range, headers):
    headers["Content-Range"] = byte_range.content_range(playable.size)
    if hasattr(chunks, "respond"):
        return chunks.respond(byte_range, 206, headers, playable.content_type)
    body = _started(_body(playable, chunks, byte_range))
    return _response(body, 206, byte_range.length, playable.content_type, headers)


def _multipart(playable, chunks, ranges, headers):
    framing = Multipart(uuid.uuid4().hex, playable.content_type, playable.size)
    bodies = [
        _body(playable, chunks, byte_range) for byte_range in ranges
    ]  # resolved in the request
    bodies[0] = _started(bodies[0])

    def parts():
        for index, (byte_range, body) in enumerate(zip(ranges, bodies, strict=True)):
            yield framing.part_header(byte_range, first=index == 0)
            yield from body
        yield framing.closing()

    length = framing.content_length(ranges)
    return _response(parts(), 206, length, framing.media_type, headers)
