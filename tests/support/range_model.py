"""Reference of docs/playback.md and the oracle, for tests/test_media_property.py.

The model reads header text with its own small parsers (never web.media_response
nor werkzeug) and says which answers are right; the oracle checks that any answer
is well formed, byte for byte.
"""

import itertools
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime


class Target:
    """The media URL, the stored bytes, the ETag's opaque part, Last-Modified as sent."""

    def __init__(self, url, data, opaque, last_modified):
        self.url, self.data, self.opaque, self.last_modified = url, data, opaque, last_modified

    def __repr__(self):  # never the 1.5 MB of data in a report
        return f"Target(size={self.size}, etag={self.etag}, last_modified={self.last_modified!r})"

    def _repr_pretty_(self, printer, cycle):  # Hypothesis' pretty printer
        printer.text(repr(self))

    @property
    def size(self):
        return len(self.data)

    @property
    def etag(self):
        return f'"{self.opaque}"'

    @property
    def modified_at(self):
        return parsedate_to_datetime(self.last_modified)


@dataclass(frozen=True)
class Case:
    """One request: its headers (None: not sent) and whether HEAD is compared with the GET."""

    range: str | None = None
    if_range: str | None = None
    if_none_match: str | None = None
    head_too: bool = False

    def headers(self):
        named = {"Range": self.range, "If-Range": self.if_range}
        named["If-None-Match"] = self.if_none_match
        return {name: value for name, value in named.items() if value is not None}


# ---------------------------------------------------------------------------
# The reference model: what docs/playback.md wants, from the header text alone


@dataclass(frozen=True)
class Expected:
    """The answers the contract allows: statuses, and for a 206 the bytes it must cover."""

    statuses: frozenset
    coverage: tuple = ()  # merged (first, last) pairs a 206 must serve, no more, no less
    multipart: bool = False  # whether a multipart/byteranges 206 is allowed

    def __or__(self, other):
        return Expected(
            self.statuses | other.statuses,
            self.coverage or other.coverage,
            self.multipart or other.multipart,
        )


WHOLE = Expected(frozenset({200}))
NOT_MODIFIED = Expected(frozenset({304}))
MAYBE = None  # a validator the contract lets a server take either way

DIGITS = "[0-9]+"
TCHAR = r"[!#$%&'*+.^_`|~0-9A-Za-z-]"
ETAG = r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"'


def parse_range_set(text, strict):
    """Range specs as (first, last|None) and ('suffix', n), or None when not a bytes range-set.

    strict: RFC 9110 14.1.1 to the letter (OWS only around commas, no empty
    elements). Lenient: spaces and tabs anywhere between the parts, empty
    elements skipped, as a forgiving reader might.
    """
    value = text.strip(" \t")  # a field value never has outer whitespace (RFC 9110 5.5)
    unit, equals, range_set = value.partition("=")
    if not equals:
        return None
    if strict and not re.fullmatch(f"{TCHAR}+", unit, re.ASCII):
        return None
    if unit.strip(" \t").lower() != "bytes":
        return None
    specs = []
    space = "" if strict else "[ \t]*"
    for element in re.split("[ \t]*,[ \t]*", range_set):
        element = element if strict else element.strip(" \t")
        if element == "":
            if strict:
                return None
            continue
        if found := re.fullmatch(f"({DIGITS}){space}-{space}({DIGITS})?", element, re.ASCII):
            first = int(found[1])
            last = None if found[2] is None else int(found[2])
            if last is not None and last < first:
                return None  # an invalid range-spec makes the whole header invalid
            specs.append((first, last))
        elif found := re.fullmatch(f"-{space}({DIGITS})", element, re.ASCII):
            specs.append(("suffix", int(found[1])))
        else:
            return None
    return specs or None


def satisfiable(spec, size):
    first, last = spec
    if first == "suffix":
        return (max(size - last, 0), size - 1) if last > 0 and size else None
    if first >= size:
        return None
    return (first, size - 1 if last is None else min(last, size - 1))


def merged(ranges):
    out = []
    for first, last in sorted(ranges):
        if out and first <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return tuple(out)


def from_specs(specs, size):
    served = [r for r in (satisfiable(spec, size) for spec in specs) if r]
    if len(specs) == 1:
        return Expected(frozenset({206}), merged(served)) if served else Expected(frozenset({416}))
    if not served:  # no satisfiable range is a 416; several ranges may also get a 200
        return Expected(frozenset({416, 200}))
    return Expected(frozenset({206, 200}), merged(served), multipart=True)


def range_expected(text, size):
    strict = parse_range_set(text, strict=True)
    if strict is not None:
        return from_specs(strict, size)
    lenient = parse_range_set(text, strict=False)
    if lenient is not None:  # not RFC syntax: ignoring it (200) and reading it are both fine
        return WHOLE | from_specs(lenient, size)
    return WHOLE  # malformed or another unit: ignored


def imf_fixdate(text):
    try:
        moment = datetime.strptime(text, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
    except ValueError:
        return None
    return moment if format_datetime(moment, usegmt=True) == text else None


def if_range_holds(value, t):
    """True: the Range applies; False: send the whole file; MAYBE: either (RFC 9110 13.1.5)."""
    if value is None:
        return True
    value = value.strip(" \t")
    if not value:
        return MAYBE  # an empty validator: absent to some readers, never matching to others
    if re.fullmatch(ETAG, value):
        return value == t.etag  # strong comparison: a weak tag never matches
    moment = imf_fixdate(value)
    if moment is not None:
        return moment == t.modified_at
    try:
        obsolete = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return False
    if obsolete.tzinfo is None:  # asctime carries no zone: it is GMT (RFC 9110 5.6.7)
        obsolete = obsolete.replace(tzinfo=UTC)
    return MAYBE if obsolete == t.modified_at else False


def if_none_match_holds(value, t):
    """True: 304; False: not; MAYBE: malformed text that names the ETag anyway."""
    if value is None:
        return False
    if value.strip(" \t") == "*":  # a real server strips outer whitespace; the test client not
        return True if value == "*" else MAYBE
    value = value.strip(" \t")
    tags = []
    for element in value.split(","):
        element = element.strip(" \t")
        if not element:
            continue
        found = re.fullmatch(ETAG, element)
        if not found:
            return MAYBE if t.opaque in value else False
        tags.append(found[2])
    return t.opaque in tags  # weak comparison (RFC 9110 13.1.2)


def expected_answer(case, t):
    """What docs/playback.md wants for ``case``; If-None-Match comes before Range."""
    if case.range is None:
        answer = WHOLE
    else:
        applies = if_range_holds(case.if_range, t)
        ranged = range_expected(case.range, t.size)
        answer = ranged if applies is True else WHOLE if applies is False else WHOLE | ranged
    unchanged = if_none_match_holds(case.if_none_match, t)
    if unchanged is True:
        return NOT_MODIFIED
    return NOT_MODIFIED | answer if unchanged is MAYBE else answer


# ---------------------------------------------------------------------------
# The oracle: every answer well formed, whatever it is


@dataclass(frozen=True)
class Observed:
    status: int
    coverage: tuple = ()
    multipart: bool = False


def assert_same_bytes(actual, wanted, what):
    """Equal bytes, reported by the first difference (never a megabyte diff)."""
    if actual == wanted:
        return
    differ = next((i for i, (a, w) in enumerate(zip(actual, wanted, strict=False)) if a != w), None)
    raise AssertionError(
        f"{what}: {len(actual)} bytes, {len(wanted)} wanted, first difference at {differ}"
    )


def assert_common_headers(response, t):
    headers = response.headers
    assert headers.get("Accept-Ranges") == "bytes"
    assert headers.get("ETag") == t.etag
    # Always, 304 included (werkzeug drops it from a 304 unless the server puts it back).
    assert headers.get("Last-Modified") == t.last_modified
    max_age = re.fullmatch(r"private, max-age=(\d+)", headers.get("Cache-Control", ""))
    assert max_age and 0 < int(max_age[1]) <= 3600, headers.get("Cache-Control")


def parse_multipart(response, t):
    """(first, last) of each part of a multipart/byteranges body, checking every byte."""
    content_type = response.headers["Content-Type"]
    boundary = re.fullmatch(r'multipart/byteranges; ?boundary="?([^";]+)"?', content_type)
    assert boundary, content_type
    delimiter = b"--" + boundary[1].encode("latin-1")
    body, position, parts = response.data, 0, []
    if body.startswith(b"\r\n"):
        position = 2
    while True:
        assert body.startswith(delimiter, position), body[position : position + 80]
        position += len(delimiter)
        if body.startswith(b"--", position):
            assert body[position + 2 :] in (b"", b"\r\n")
            break
        assert body.startswith(b"\r\n", position)
        head_end = body.index(b"\r\n\r\n", position)
        fields = dict(
            line.split(": ", 1) for line in body[position + 2 : head_end].decode().split("\r\n")
        )
        assert fields["Content-Type"] == "video/mp4", fields
        found = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", fields["Content-Range"])
        first, last, size = int(found[1]), int(found[2]), int(found[3])
        assert size == t.size and 0 <= first <= last < size, fields
        data = body[head_end + 4 : head_end + 4 + last - first + 1]
        assert_same_bytes(data, t.data[first : last + 1], f"part {first}-{last}")
        position = head_end + 4 + len(data)
        assert body.startswith(b"\r\n", position)
        position += 2
        parts.append((first, last))
    assert parts, "a multipart answer without parts"
    for (_, previous_last), (first, _) in itertools.pairwise(parts):
        assert first > previous_last, f"parts out of order or overlapping: {parts}"
    return parts


def observe(response, t):
    """Check ``response`` (a GET) is well formed; what it served."""
    status, headers, body = response.status_code, response.headers, response.data
    assert status in (200, 206, 304, 416), (status, body[:200])
    assert_common_headers(response, t)
    if status == 304:
        assert body == b""
        return Observed(304)
    if status == 416:
        assert headers.get("Content-Range") == f"bytes */{t.size}"
        assert response.is_json
        error = json.loads(body)
        assert isinstance(error.get("error"), str) and error["error"]
        assert error.get("code") == "range_not_satisfiable"
        return Observed(416)
    assert headers.get("Content-Length") == str(len(body))
    if status == 200:
        assert "Content-Range" not in headers
        assert headers.get("Content-Type") == "video/mp4"
        assert_same_bytes(body, t.data, "the 200's body")
        return Observed(200)
    if headers.get("Content-Type", "").startswith("multipart/byteranges"):
        assert "Content-Range" not in headers
        return Observed(206, merged(parse_multipart(response, t)), multipart=True)
    assert headers.get("Content-Type") == "video/mp4"
    found = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", headers.get("Content-Range", ""))
    assert found, headers.get("Content-Range")
    first, last, size = int(found[1]), int(found[2]), int(found[3])
    assert size == t.size and 0 <= first <= last < size
    assert_same_bytes(body, t.data[first : last + 1], f"206 {first}-{last}")
    return Observed(206, ((first, last),))


def assert_head_matches(head, get):
    """docs/playback.md#media-and-thumbnail-routes: HEAD gives the same headers, no body."""
    assert head.status_code == get.status_code
    assert head.data == b""
    names = ["Accept-Ranges", "ETag", "Last-Modified", "Content-Range"]
    if not get.headers.get("Content-Type", "").startswith("multipart/"):
        names += ["Content-Type", "Content-Length"]  # a multipart boundary is per answer
    for name in names:
        assert head.headers.get(name) == get.headers.get(name), name


def check(client, t, case):
    response = client.get(t.url, headers=case.headers())
    observed = observe(response, t)
    expected = expected_answer(case, t)
    verdict = f"{case}: got {observed}, the contract allows {expected}"
    assert observed.status in expected.statuses, verdict
    if observed.status == 206:
        assert observed.coverage == expected.coverage, verdict
        assert expected.multipart or not observed.multipart, verdict
    if case.head_too:
        assert_head_matches(client.head(t.url, headers=case.headers()), response)
    return observed, expected
