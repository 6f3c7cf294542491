"""Schemathesis against the live ``/openapi.json`` (docs/conventions.md, docs/operations.md).

The app runs on a real socket (``LiveServer``) on the embedded database, and
schemathesis generates requests for every operation the schema documents,
valid and invalid (positive and negative modes, plus its coverage phase),
and runs all of its checks on each answer: no 5xx, every status documented,
every body matching its documented schema and content type, auth enforced.
How cases reach real users, videos and tokens: tests/support/schema_world.py; courses,
purchases, subscriptions, plans and webhooks: tests/support/schema_money.py; reactions, watch
progress, analytics and the audit log: tests/support/schema_engagement.py.

Server bugs this found are reproduced in tests/support/schema_bugs.py (FIXED), each run as an
ordinary test. Its KNOWN_BUGS, the failures a ``filter_failure`` hook would drop, is empty:
every check holds for every operation.
"""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from tests.support import schema_cases, schema_engagement, schema_uploads, schema_world
from tests.support.schema_bugs import FIXED, KNOWN_BUGS

# 74 operations x EXAMPLES generated cases (plus schemathesis' explicit and coverage-phase cases).
# 50 in `make test` (about 3 minutes on 2 cores); SCHEMA_EXAMPLES=500 for a deeper run.
OPERATIONS = 74
EXAMPLES = int(os.environ.get("SCHEMA_EXAMPLES") or 50)
MIN_CASES = 2000

# A well-formed Range past the end of the file is 416, as documented (RFC 9110 15.5.17).
# Whether a range fits depends on the stored file, which a schema cannot say, so for the byte
# routes 416 joins schemathesis' list of answers a valid request may get (its default list,
# which has 404 and 409 for the same reason, plus 416). Likewise an upload's bytes are any
# binary to the schema, and 422 says they are not a video or audio file.
ACCEPTED_FOR_VALID_DATA = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
# schemathesis' default list for invalid (negative) cases.
REFUSALS_OF_INVALID_DATA = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428"]
REFUSALS_OF_INVALID_DATA += ["429", "5xx"]


def accept_for_valid_data(path_regex, status):
    return {
        "include-path-regex": path_regex,
        "checks": {
            "positive_data_acceptance": {"expected-statuses": [*ACCEPTED_FOR_VALID_DATA, status]}
        },
    }


CONFIG = SchemathesisConfig.from_dict(
    {
        # An invalid body may also be refused for its size before it is read: 413 (any route,
        # over MAX_JSON_KB) is as clean a refusal as schemathesis' own list.
        "checks": {
            "negative_data_rejection": {"expected-statuses": [*REFUSALS_OF_INVALID_DATA, "413"]}
        },
        "operations": [
            accept_for_valid_data("/(media|thumbnail|hls/.+)$", "416"),
            accept_for_valid_data("/video/upload$", "422"),
            # Whether a mailed token is live depends on the store, not the schema: a
            # well-formed one that is not is 400 invalid_or_expired_token, as documented.
            accept_for_valid_data("/auth/(verify-email|password-reset/confirm)$", "400"),
            # Likewise the store decides: which payment methods the provider knows
            # (invalid_payment_method) and what is for sale (not_for_sale); whether the ids of
            # a course's order are videos of its owner (unknown_video: 400, not 404, by
            # docs/courses.md); whether a batch has one title per file part; whether `to`
            # comes after `from`; whether a webhook's signature holds (a secret's HMAC).
            accept_for_valid_data("/(purchases|subscriptions)$", "400"),
            accept_for_valid_data("/courses/[^/]+/videos$", "400"),
            accept_for_valid_data("/videos/batch$", "400"),
            accept_for_valid_data("/(me/earnings|admin/revenue)$", "400"),
            accept_for_valid_data("/payments/webhook$", "400"),
            # Spans and audit filters the schema cannot refuse (a `to` before `from`, a span
            # over 366 days, target_type without target_id): schema_engagement.py says which.
            accept_for_valid_data(schema_engagement.VALID_BUT_REFUSED, "400"),
            # Resumable uploads: the metadata's rules, the stored length, the body's checksum
            # (400, 413, 460); a wrong Tus-Resumable is 412 (tests/support/schema_uploads.py).
            {
                "include-path-regex": "^/uploads/",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": [
                            *ACCEPTED_FOR_VALID_DATA,
                            *schema_uploads.VALID_BUT_REFUSED,
                        ]
                    },
                    "negative_data_rejection": {
                        "expected-statuses": [
                            *REFUSALS_OF_INVALID_DATA,
                            "413",
                            *schema_uploads.INVALID_REFUSED,
                        ]
                    },
                    "missing_required_header": {
                        "expected-statuses": schema_uploads.MISSING_HEADER_REFUSED
                    },
                },
            },
        ],
    }
)
# Built at import (schemathesis' eager mode): its lazy loader, ``schemathesis.pytest.
# from_fixture``, fails on pytest 9 (it sets ``request.node._nodeid``, which pytest 9 no
# longer has). ``world`` checks that the live server serves the very same document.
DOCUMENT = schema_world.served_document()
# A tus PATCH's body is raw bytes, sent as schemathesis sends application/octet-stream.
schemathesis.serializer.alias(schema_uploads.PATCH_MEDIA_TYPE, "application/octet-stream")
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
schema.hook(schema_world.before_generate_case)
schema.auth(refresh_interval=None)(schema_world.BearerToken)

CASES = {"count": 0, "statuses": {}}  # statuses: label -> {(method, status)}


@schema.hook
def filter_failure(context, failure, case, response):
    label = case.operation.label
    for code, labels, matches in KNOWN_BUGS.values():
        if failure.code == code and label in labels and matches(case, response):
            return False
    return True


@pytest.fixture(scope="module")
def world(embedded_server, tmp_path_factory):
    folder = tmp_path_factory.mktemp("schema-media")
    with schema_world.live_world(embedded_server, folder, DOCUMENT) as live:
        yield live


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_matches_its_schema(case, world):
    CASES["count"] += 1
    extra = schema_world.with_real_token(case, world)
    schema_cases.with_real_cursor(case, world)
    response = case.call(base_url=world.server.base_url, timeout=30, **extra)
    answers = CASES["statuses"].setdefault(case.operation.label, set())
    answers.add((response.request.method, response.status_code))
    case.validate_response(response)


def test_enough_cases_ran(request):
    generated = [
        item for item in request.session.items if "test_api_matches_its_schema" in item.name
    ]
    if not generated:
        pytest.skip("the schema test was not selected")
    # Selected yet never run (pytest-xdist does not run schemathesis' generated tests): fail.
    assert len(CASES["statuses"]) >= OPERATIONS, "the schema test did not run"
    assert CASES["count"] >= MIN_CASES, CASES
    print(f"schemathesis: {CASES['count']} cases over {len(CASES['statuses'])} operations")
    # Every operation was exercised for real, not only refused: each answered a success.
    never_succeeded = [
        label
        for label, answers in CASES["statuses"].items()
        if not any(
            (method != "OPTIONS" or label.startswith("OPTIONS")) and status < 300
            for method, status in answers
        )
    ]
    assert not never_succeeded, {
        label: sorted(CASES["statuses"][label]) for label in never_succeeded
    }


@pytest.mark.parametrize("name", sorted(FIXED))
def test_fixed_server_bug_stays_fixed(name, world):
    FIXED[name](world)


def test_no_failure_is_tolerated():
    assert KNOWN_BUGS == {}
