"""GET/HEAD /video/{id}/media under random Range, If-Range and If-None-Match headers.

Hypothesis sends valid and hostile headers (closed, open and suffix ranges,
several, overlapping, out of order, huge numbers, ``-0``, stray whitespace,
other units, garbage; current, stale, weak and date validators) to the media
route on both backends. Every answer goes through two checks:

* the oracle: whatever the status, the answer is well formed. 200 is the
  whole file; 206 is exactly the slices its Content-Range or its
  multipart/byteranges parts claim; 416 says ``bytes */size`` in JSON; 304 is
  empty; the caching headers are always there.
* the model: an independent reference of docs/playback.md (RFC 9110 where
  the contract is silent), which reads the header text with its own small
  parsers (never web.media_response nor werkzeug) and says which answers
  are right. Where the contract allows two answers it accepts both: several
  ranges may get a multipart 206 or the whole file (werkzeug refuses
  overlapping or out-of-order sets, the server then sends a 200); syntax that
  RFC 9110 does not allow but a lenient reader could (``bytes = 0-1``,
  ``bytes=0-1,``) may be ignored or honoured. A 304 keeps the ETag,
  Last-Modified and Cache-Control.

Profiles: ``media`` (default, 150 examples per backend), ``media-ci`` (when
CI=true, the same count, prints a reproduction blob) and ``media-thorough``
(2000); choose one with MEDIA_PROPERTY_PROFILE. A failure prints its shrunk example.
"""

import os

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support.cached_media import Lookups, cache_settings, warm
from tests.support.range_model import Case, Target, assert_same_bytes, check
from tests.support.range_strategies import requests
from tests.support.tools import IN_CI

settings.register_profile(
    "media",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("media-ci", settings.get_profile("media"), print_blob=True)
settings.register_profile("media-thorough", settings.get_profile("media"), max_examples=2000)
PROFILE = os.environ.get("MEDIA_PROPERTY_PROFILE") or ("media-ci" if IN_CI else "media")


@pytest.fixture(params=["gridfs", "cache"])
def app(request, make_app, tmp_path):
    """The bytes from GridFS, and from the media cache's local copy (warmed in ``target``)."""
    if request.param == "gridfs":
        return make_app()
    return make_app(**cache_settings(tmp_path / "media-cache"))


@pytest.fixture
def target(app, client, library, viewer, multi_chunk_mp4):
    """One ready multi-chunk video and a viewer's media URL, for all of a test's examples."""
    video = library.ready_video(multi_chunk_mp4)
    if app.config["MEDIA_CACHE_MB"]:
        warm(app, video["id"])
    token = library.playback_token(video["id"], viewer)
    url = f"/video/{video['id']}/media?token={token}"
    last_modified = client.head(url).headers["Last-Modified"]
    return Target(url, video["bytes"], video["sha256"], last_modified)


@pytest.fixture(autouse=True)
def bytes_from_the_copy(app, target):
    """With the cache on, every answer came from the local copy (none from GridFS)."""
    lookups = Lookups(app) if app.config["MEDIA_CACHE_MB"] else None
    yield
    if lookups is not None:
        assert lookups.misses == 0 and lookups.hits > 0


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
