"""web.media_response's Range planning alone: pure functions, no Flask, no database."""

from datetime import UTC, datetime

import pytest

from web.media_response import (
    MAX_PARTS,
    SERVE_WHOLE,
    ByteRange,
    Multipart,
    if_range_allows,
    requested_ranges,
)

SIZE = 1000


@pytest.mark.parametrize(
    "header,expected",
    [
        ("bytes=0-1", [ByteRange(0, 1)]),
        ("bytes=10-", [ByteRange(10, 999)]),
        ("bytes=-10", [ByteRange(990, 999)]),
        ("bytes=-5000", [ByteRange(0, 999)]),
        ("bytes=990-5000", [ByteRange(990, 999)]),
        ("bytes=999-999", [ByteRange(999, 999)]),
        ("BYTES = 0-1", [ByteRange(0, 1)]),
        ("bytes=0-9,5-19", SERVE_WHOLE),  # overlapping: werkzeug calls it malformed
        ("bytes=0-9,10-19", [ByteRange(0, 19)]),
        ("bytes=0-9,500-509", [ByteRange(0, 9), ByteRange(500, 509)]),
        ("bytes=0-9,2000-2009", [ByteRange(0, 9)]),
        ("bytes=1000-", []),
        ("bytes=-0", []),
        ("bytes=1000-1005,2000-", []),
        (None, SERVE_WHOLE),
        ("", SERVE_WHOLE),
        ("bytes=abc", SERVE_WHOLE),
        ("bytes=9-3", SERVE_WHOLE),
        ("items=0-5", SERVE_WHOLE),
        ("bytes=0", SERVE_WHOLE),
    ],
)
def test_requested_ranges(header, expected):
    assert requested_ranges(header, SIZE) == expected


def test_too_many_parts_serve_the_whole_file():
    many = ",".join(f"{n * 10}-{n * 10 + 1}" for n in range(MAX_PARTS + 1))
    assert requested_ranges(f"bytes={many}", SIZE) is SERVE_WHOLE
    few = ",".join(f"{n * 10}-{n * 10 + 1}" for n in range(MAX_PARTS))
    assert len(requested_ranges(f"bytes={few}", SIZE)) == MAX_PARTS


def test_an_empty_file_satisfies_no_range():
    assert requested_ranges("bytes=-5", 0) == []
    assert requested_ranges("bytes=0-", 0) == []


MODIFIED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "if_range,allowed",
    [
        (None, True),
        ('"abc"', True),
        ('"abd"', False),
        ('W/"abc"', False),
        ("Fri, 02 Jan 2026 03:04:05 GMT", True),
        ("Fri, 02 Jan 2026 03:04:04 GMT", False),
        ("Sat, 03 Jan 2026 03:04:05 GMT", False),
        ("not a date", False),
    ],
)
def test_if_range(if_range, allowed):
    assert if_range_allows(if_range, '"abc"', MODIFIED) is allowed


def test_multipart_length_matches_what_is_sent():
    framing = Multipart("b0undary", "video/mp4", SIZE)
    ranges = [ByteRange(0, 9), ByteRange(500, 509)]
    body = b"".join(
        framing.part_header(r, first=i == 0) + b"x" * r.length for i, r in enumerate(ranges)
    )
    body += framing.closing()
    assert framing.content_length(ranges) == len(body)
    first_part = b"--b0undary\r\nContent-Type: video/mp4\r\nContent-Range: bytes 0-9/1000"
    assert body.startswith(first_part)
