"""HTTP Range arithmetic for the media route: pure functions, no Flask.

werkzeug parses the header (``parse_range_header``) and the validators
(``parse_if_range_header``, ``parse_date``); this module covers where its
``Range.range_for_length`` and ``make_conditional`` break docs/playback.md#range-requests:
they answer 416 to several ranges, to a suffix longer than the file and to an
unknown unit (the contract wants the whole file or a multipart answer), they
read a ``bytes=-0`` as malformed (RFC 9110 14.1.2: unsatisfiable, so 416),
and ``parse_if_range_header`` drops the ``W/`` of a weak validator, which
must never match (RFC 9110 13.1.5: If-Range compares strongly).
"""

import re
from dataclasses import dataclass

from werkzeug.http import http_date, parse_if_range_header, parse_range_header

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
