"""Hypothesis strategies for the media property test: Range, If-Range and If-None-Match headers."""

import re
from datetime import UTC, timedelta
from email.utils import format_datetime

from hypothesis import strategies as st

from models.media_file import CHUNK_SIZE
from tests.support.range_model import Case

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
