"""GET/HEAD /video/{id}/media under random Range, If-Range and If-None-Match headers.

Hypothesis sends valid and hostile headers (closed, open and suffix ranges,
several, overlapping, out of order, huge numbers, ``-0``, stray whitespace,
other units, garbage; current, stale, weak and date validators) to the media
route on both backends. Every answer goes through two checks:

* the oracle: whatever the status, the answer is well formed. 200 is the
  whole file; 206 is exactly the slices its Content-Range or its
  multipart/byteranges parts claim; 416 says ``bytes */size`` in JSON; 304 is
  empty; the caching headers are always there.
* the model: an independent reference of SPEC.md, Playback (RFC 9110 where
  the contract is silent), which reads the header text with its own small
  parsers (never services.byte_ranges nor werkzeug) and says which answers
  are right. Where the contract allows two answers it accepts both: several
  ranges may get a multipart 206 or the whole file (werkzeug refuses
  overlapping or out-of-order sets, the server then sends a 200); syntax that
  RFC 9110 does not allow but a lenient reader could (``bytes = 0-1``,
  ``bytes=0-1,``) may be ignored or honoured. A 304 may leave out
  Last-Modified (RFC 9110 15.4.5; werkzeug drops it) but keeps the ETag.

Profiles: ``media`` (default, 150 examples per backend), ``media-ci`` (when
CI=true, the same count, prints a reproduction blob) and ``media-thorough``
(2000); choose one with MEDIA_PROPERTY_PROFILE. A failure prints its shrunk example.
"""

import itertools
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from models.media_file import CHUNK_SIZE
from tests.conftest import IN_CI

settings.register_profile(
    "media",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("media-ci", settings.get_profile("media"), print_blob=True)
settings.register_profile("media-thorough", settings.get_profile("media"), max_examples=2000)
PROFILE = os.environ.get("MEDIA_PROPERTY_PROFILE") or ("media-ci" if IN_CI else "media")


# ---------------------------------------------------------------------------
# The video under test


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


@pytest.fixture
def target(client, library, viewer, multi_chunk_mp4):
    """One ready multi-chunk video and a viewer's media URL, for all of a test's examples."""
    video = library.ready_video(multi_chunk_mp4)
    token = library.playback_token(video["id"], viewer)
    url = f"/video/{video['id']}/media?token={token}"
    last_modified = client.head(url).headers["Last-Modified"]
    return Target(url, video["bytes"], video["sha256"], last_modified)


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
# Strategies

OWS = ["", " ", "\t", "  "]
# Latin-1 characters that Python's \s and str.strip() take for whitespace and
# HTTP does not: NBSP and NEL (obs-text, legal in a field value), form feed.
LOOKALIKE_SPACES = ["\xa0", "\x85", "\x0c"]
SPACES = OWS + LOOKALIKE_SPACES
FIELD_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
UNITS = ["Bytes", "BYTES", "bytes ", " bytes", "byte", "pages", "items", "none", "", "b ytes"]
EQUALS = [" =", "= ", " = ", ":", "==", ""]
SEPARATORS = [", ", " ,", ",\t", ",,"]
ODD_SPECS = [
    "", "-", "--5", "-0", "-00", "0--1", "1-2-3", "abc", "+5-6", "5-+6", "0x10-20", "1_0-20",
    "\xb2-3", "5", "*", "-+1", "- 1", "1 -2", "0-0", "-1", "0-",
]  # fmt: skip
HUGE = st.integers(10**12, 10**30)


def sometimes(draw, one_in):
    """True about once in ``one_in`` draws; shrinks to False."""
    return draw(st.integers(0, one_in - 1)) == one_in - 1


def positions(size):
    borders = {0, 1, 2, size - 2, size - 1, size, size + 1}
    borders |= {n * CHUNK_SIZE + d for n in range(1, size // CHUNK_SIZE + 1) for d in (-1, 0, 1)}
    return st.one_of(st.sampled_from(sorted(borders)), st.integers(0, size + 10), HUGE)


def lengths(size):
    special = st.sampled_from([0, 1, 2, size - 1, size, size + 1])
    return st.one_of(special, st.integers(0, size), HUGE)


@st.composite
def range_specs(draw, size):
    form = draw(st.sampled_from(["ordered", "closed", "open", "suffix", "odd"]))
    if form == "odd":
        return draw(st.sampled_from(ODD_SPECS))
    if form == "suffix":
        text = f"-{draw(lengths(size))}"
    elif form == "open":
        text = f"{draw(positions(size))}-"
    else:
        first, last = draw(positions(size)), draw(positions(size))
        if form == "ordered":
            first, last = sorted((first, last))
        text = f"{first}-{last}"
    if sometimes(draw, 8):  # leading zeros
        text = re.sub(r"\d+", lambda digits: "00" + digits[0], text)
    if sometimes(draw, 8):  # spaces inside the spec
        text = text.replace("-", f"{draw(st.sampled_from(SPACES))}-{draw(st.sampled_from(SPACES))}")
    return text


@st.composite
def structured_ranges(draw, size):
    """``unit=spec,spec,...``, mostly well formed, now and then bent."""
    unit = draw(st.sampled_from(UNITS)) if sometimes(draw, 6) else "bytes"
    equals = draw(st.sampled_from(EQUALS)) if sometimes(draw, 8) else "="
    specs = draw(st.lists(range_specs(size), min_size=1, max_size=4))
    body = specs[0]
    for spec in specs[1:]:
        separator = draw(st.sampled_from(SEPARATORS)) if sometimes(draw, 3) else ","
        body += separator + spec
    lead = draw(st.sampled_from(SPACES)) if sometimes(draw, 6) else ""
    trail = draw(st.sampled_from(SPACES)) if sometimes(draw, 6) else ""
    return f"{lead}{unit}{equals}{body}{trail}"


@st.composite
def ascending_ranges(draw, size):
    """Sorted, disjoint ranges (sets werkzeug accepts); the last maybe open or a suffix."""
    cuts = sorted(draw(st.sets(st.integers(0, size + 5), min_size=2, max_size=10)))
    specs = [f"{cuts[i]}-{cuts[i + 1] - 1}" for i in range(0, len(cuts) - 1, 2)]
    ending = draw(st.sampled_from(["", "open", "suffix", "past the end"]))
    if ending == "open":
        specs.append(f"{cuts[-1] + 1}-")
    elif ending == "suffix":
        specs.append(f"-{draw(lengths(size))}")
    elif ending == "past the end":
        specs.append(f"{size + draw(st.integers(0, 5))}-{size + 10}")
    return "bytes=" + ",".join(specs)


@st.composite
def many_ranges(draw, size):
    """More parts than a server should frame one by one (about a dozen to 60)."""
    count = draw(st.integers(12, 60))
    step = size // count
    widths = draw(st.lists(st.integers(0, 3), min_size=count, max_size=count))
    return "bytes=" + ",".join(f"{n * step}-{n * step + w}" for n, w in enumerate(widths))


@st.composite
def single_ranges(draw, size):
    """What players send: one well-formed ``bytes=a-b``, ``a-`` or ``-n``."""
    first, last = sorted((draw(positions(size)), draw(positions(size))))
    spec = draw(
        st.sampled_from([f"{first}-{last}", f"{first}-", f"-{draw(lengths(size))}", f"{last}-"])
    )
    return "bytes=" + spec


# How often each kind of Range header is drawn (the first shrinks best).
RANGE_KINDS = {
    "single": 5,
    "bent": 4,
    "ascending": 3,
    "many": 1,
    "garbage": 1,
    "garbage after bytes=": 1,
    "absent": 1,
}


@st.composite
def range_headers(draw, size):
    kind = draw(
        st.sampled_from([kind for kind, weight in RANGE_KINDS.items() for _ in range(weight)])
    )
    return draw(
        {
            "single": single_ranges(size),
            "bent": structured_ranges(size),
            "ascending": ascending_ranges(size),
            "many": many_ranges(size),
            "garbage": st.text(FIELD_CHARS, max_size=20),
            "garbage after bytes=": st.text(FIELD_CHARS, max_size=12).map(lambda t: "bytes=" + t),
            "absent": st.none(),
        }[kind]
    )


def http_dates(moment):
    """The same instant in the three HTTP-date formats (RFC 9110 5.6.7)."""
    moment = moment.astimezone(UTC)
    return [
        format_datetime(moment, usegmt=True),
        moment.strftime("%A, %d-%b-%y %H:%M:%S GMT"),
        moment.strftime("%a %b ") + f"{moment.day:>2}" + moment.strftime(" %H:%M:%S %Y"),
    ]


def if_range_values(t):
    modified = t.modified_at
    validators = [
        t.etag,
        f"W/{t.etag}",
        f"w/{t.etag}",
        '"stale"',
        f'"{t.opaque[:-1]}x"',
        t.opaque,
        f" {t.etag}\t",
        f'{t.etag}, "other"',
        t.last_modified,
        *http_dates(modified)[1:],
        *[http_dates(modified + timedelta(seconds=s))[0] for s in (-1, 1, 3600)],
        "Tue, 01 Jan 2019 00:00:00 GMT",
        "not a date",
        "",
    ]
    core = [t.etag, f"W/{t.etag}", '"stale"', t.last_modified]
    return st.one_of(
        st.sampled_from(core), st.sampled_from(validators), st.text(FIELD_CHARS, max_size=16)
    )


def if_none_match_values(t):
    tags = [
        t.etag,
        f"W/{t.etag}",
        '"other"',
        "*",
        f'"a", {t.etag}',
        f'"a",{t.etag}',
        f'W/"a" , W/{t.etag}',
        f'"a", , {t.etag}',
        '"a", "b"',
        f"w/{t.etag}",
        t.opaque,
        '"a", *',
        "",
    ]
    core = [t.etag, f"W/{t.etag}", "*", '"other"']
    return st.one_of(
        st.sampled_from(core), st.sampled_from(tags), st.text(FIELD_CHARS, max_size=16)
    )


@st.composite
def requests(draw, t):
    return Case(
        range=draw(range_headers(t.size)),
        if_range=draw(if_range_values(t)) if sometimes(draw, 2) else None,
        if_none_match=draw(if_none_match_values(t)) if sometimes(draw, 3) else None,
        head_too=sometimes(draw, 5),
    )


# ---------------------------------------------------------------------------
# The reference model: what SPEC.md wants, from the header text alone


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
    if not served:  # SPEC: no satisfiable range is a 416; several ranges may also get a 200
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
    """What SPEC.md, Playback wants for ``case``; If-None-Match comes before Range."""
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
    if response.status_code != 304 or "Last-Modified" in headers:
        # RFC 9110 15.4.5: a 304 that carries the ETag should not repeat
        # Last-Modified (werkzeug drops it), whatever SPEC's "Always" says.
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
    """SPEC: HEAD gives the same headers (and no body)."""
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


# ---------------------------------------------------------------------------
# The tests


@settings(settings.get_profile(PROFILE))
@given(data=st.data())
def test_every_answer_is_well_formed_and_what_the_contract_allows(client, target, data):
    observed, expected = check(client, target, data.draw(requests(target), label="request"))
    kind = " multipart" if observed.multipart else ""
    event(f"{observed.status}{kind}, allowed {sorted(expected.statuses)}")


TRICKY = [
    # (Range, If-Range, If-None-Match); {size}, {etag}, {opaque}, {lm} are filled in
    ("bytes=0-1", None, None),
    ("bytes=0-0", None, None),
    ("bytes={last}-", None, None),
    ("bytes={size}-", None, None),
    ("bytes=-{size}", None, None),
    ("bytes=-{huge}", None, None),
    ("bytes=0-{huge}", None, None),
    ("bytes={huge}-{huge}", None, None),
    ("bytes=-0", None, None),
    ("bytes=-000", None, None),
    ("BYTES=0-1", None, None),
    (" bytes=0-1\t", None, None),
    ("bytes = 0 - 1", None, None),
    ("bytes=0-1,", None, None),
    ("bytes=,0-1", None, None),
    ("bytes=5-2", None, None),
    ("bytes=0-1,5-2", None, None),
    ("bytes=1_0-20", None, None),
    ("bytes=+1-2", None, None),
    ("bytes=\xb2-3", None, None),
    ("bytes=0-1\xa0", None, None),
    ("pages=0-1", None, None),
    ("bytes=-0,0-5", None, None),
    ("bytes=0-9,10-29", None, None),
    ("bytes=0-99,200-299,-50", None, None),
    ("bytes=200-299,0-99", None, None),
    ("bytes=0-99,50-149", None, None),
    ("bytes={size}-,{past}-{past}", None, None),
    ("bytes=10-19,{past}-{past}", None, None),
    ("", None, None),
    ("bytes=", None, None),
    ("bytes=5-9", "{etag}", None),
    ("bytes=5-9", "W/{etag}", None),
    ("bytes=5-9", '"stale"', None),
    ("bytes=5-9", "{lm}", None),
    ("bytes=5-9", "Tue, 01 Jan 2019 00:00:00 GMT", None),
    ("bytes=5-9", "{opaque}", None),
    ("bytes=-0", '"stale"', None),
    (None, "{etag}", None),
    (None, None, "{etag}"),
    (None, None, "W/{etag}"),
    (None, None, "*"),
    (None, None, '"a", "b"'),
    ("bytes=0-1", None, '"a", {etag}'),
    ("bytes=-0", None, "{etag}"),
    ("bytes={size}-", '"stale"', '"other"'),
]


def fill(template, t):
    if template is None:
        return None
    return template.format(
        size=t.size,
        last=t.size - 1,
        past=t.size + 100,
        huge=10**25,
        etag=t.etag,
        opaque=t.opaque,
        lm=t.last_modified,
    )


def test_tricky_requests_from_the_contract(client, target):
    """A fixed table through the same oracle and model, so the sharp edges are always tried."""
    failures = []
    for range_header, if_range, if_none_match in TRICKY:
        case = Case(*(fill(value, target) for value in (range_header, if_range, if_none_match)))
        case = Case(case.range, case.if_range, case.if_none_match, head_too=True)
        try:
            check(client, target, case)
        except AssertionError as error:
            failures.append(f"{case}: {error}")
    assert not failures, "\n".join(failures)


def test_a_malformed_zero_suffix_is_ignored(client, target):
    """NBSP, NEL and form feed are not HTTP whitespace (RFC 9110 5.6.3): these headers are
    malformed, and ``'\\xa0bytes=0-1'`` is indeed ignored; the ``-0`` ones must be too."""
    for header in ["\xa0bytes=-0", "bytes=-0\x85", "bytes=\xa0-0", "bytes\x0c=-0"]:
        response = client.get(target.url, headers={"Range": header})
        assert response.status_code == 200, (header, response.status_code)
        assert_same_bytes(response.data, target.data, header)
