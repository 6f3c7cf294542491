"""Engagement and analytics (docs/engagement.md, progress.md, analytics.md, audit.md) in
tests/test_api_schema.py: which role each route is called as, the real objects its cases
reach, and the server bugs the schema test found in them (``FIXED``).

Real objects (``add_real_objects``): the viewer likes the main video and reports progress
half-way through the main and the paid video (it bought the latter in schema_money.py), so
continue-watching and the history hold two entries (real cursors at ``per_page=1``), and the
audit log is full of the set-up's calls. Reactions, progress reports and a video's analytics
always name the main video (``video_id``: public, ready and never edited or deleted), so a
valid case's answer depends only on its own fields and token. A valid progress report's
position is brought inside the video's duration (its length is the stored file's, which the
schema cannot know).
"""

import math
import re

PRIVILEGED = {
    # The main video's owner is the creator: the viewer meets not_owner (403).
    "GET /video/{video_id}/analytics": "creator",
    "GET /analytics/creator": "creator",
    "GET /analytics/admin": "admin",
    "GET /admin/audit": "admin",
}
LIST_ROUTES = ("/me/continue-watching", "/me/history", "/admin/audit")
MAIN_VIDEO_ROUTES = ("/reaction", "/progress", "/analytics")
# Valid-looking query strings the schema cannot refuse, answered 400 as documented: a span
# whose `to` is before `from` or longer than 366 days (a pair's relation, not a field's form),
# or a day outside 1970-01-01..9998-12-31 (a `date` format has no bounds); an audit filter of
# `target_type` without `target_id`, a `from` not before `to`, or a moment whose offset takes
# it outside the calendar (9999-12-31T23:00:00-05:00).
VALID_BUT_REFUSED = "/(video/[^/]+/analytics|analytics/(creator|admin)|admin/audit)$"


def add_real_objects(world, real):
    http, viewer = world.http, world.http.bearer(world.tokens["viewer"])
    video = _ok(http.request("GET", f"/video/{real['video_id']}", headers=viewer))["video"]
    real["video_duration"] = video["duration"]
    path = f"/video/{real['video_id']}/reaction"
    reply = http.request("PUT", path, {"value": "like"}, headers=viewer)
    assert _ok(reply)["likes"] == 1, reply.body
    for key in ("paid_id", "video_id"):  # the main video last: the most recent first
        video = _ok(http.request("GET", f"/video/{real[key]}", headers=viewer))["video"]
        body = {"position_seconds": video["duration"] / 2}
        reply = http.request("PUT", f"/video/{real[key]}/progress", body, headers=viewer)
        assert reply.status == 204, reply.body[:300]


def _ok(reply):
    assert reply.status == 200, reply.body[:300]
    return reply.json()


def real_video(path):
    """Whether a valid case of ``path`` is given the main video."""
    return path.endswith(MAIN_VIDEO_ROUTES)


def real_body(path, body, real):
    """A valid report's position inside the main video (0 to its duration)."""
    if path.endswith("/progress"):
        position = body.get("position_seconds")
        duration = real["video_duration"]
        if isinstance(position, int | float) and math.isfinite(position) and duration:
            body["position_seconds"] = round(math.fmod(position, duration), 3)


def bug_audit_calendar_edges(world):
    """GET /admin/audit?to=9999-12-31 (a date: the end of that day) and a `from` whose offset
    takes it past year 9999 in UTC were 500: the day after 9999-12-31 overflows. The calendar's
    edges are the same 400 as any malformed moment."""
    headers = world.http.bearer(world.tokens["admin"])
    for query in (
        "to=9999-12-31",
        "from=9999-12-31T23:00:00-05:00",
        "to=0001-01-01T00:00:00+01:00",
    ):
        reply = world.http.request("GET", f"/admin/audit?{query}", headers=headers)
        assert reply.status == 400, (query, reply.body)
        assert reply.json()["code"] == "validation_error", reply.body


def bug_analytics_calendar_edges(world):
    """A span at the calendar's edges was 500: `to=0001-01-01` (its default `from`, 29 days
    earlier, is before year 1) and the admin report's last day 9999-12-31 (signups are read
    up to the next day's start). Dates outside 1970-01-01..9998-12-31 are 400 now, as
    documented."""
    headers = world.http.bearer(world.tokens["admin"])
    for path in ("/analytics/admin", "/analytics/creator"):
        for query in ("to=0001-01-01", "from=9999-12-31&to=9999-12-31"):
            reply = world.http.request("GET", f"{path}?{query}", headers=headers)
            assert reply.status == 400, (path, query, reply.body)
    reply = world.http.request(
        "GET", "/analytics/admin?from=9998-12-31&to=9998-12-31", headers=headers
    )
    assert reply.status == 200, reply.body


def bug_analytics_day_not_yyyy_mm_dd(world):
    """`from=2024-1-05` (documented `format: date`, YYYY-MM-DD) was taken as 2024-01-05:
    ``strptime`` accepts one-digit months and days. Refused now, with the field named."""
    headers = world.http.bearer(world.tokens["admin"])
    for query in ("from=2024-1-05&to=2024-02-01", "from=2024-01-5&to=2024-02-01"):
        reply = world.http.request("GET", f"/analytics/admin?{query}", headers=headers)
        assert reply.status == 400, (query, reply.body)
        assert reply.json()["details"] == {"from": ["Not a valid date."]}, reply.body
    reply = world.http.request(
        "GET", "/analytics/admin?from=2024-01-05&to=2024-02-01", headers=headers
    )
    assert reply.status == 200, reply.body


def bug_audit_moment_shape_undocumented(world):
    """GET /admin/audit documented `from` and `to` as any string, and took any ISO 8601 form
    (`20240105`, a space for the `T`). The document states their pattern now, and the other
    forms are 400."""
    document = world.http.request("GET", "/openapi.json").json()
    for name in ("from", "to"):
        pattern = _spec_parameter(document, "/admin/audit", "get", name)["schema"]["pattern"]
        assert re.fullmatch(pattern, "2024-01-05T10:00:00.5+05:30"), pattern
        assert not re.fullmatch(pattern, "20240105"), pattern
    headers = world.http.bearer(world.tokens["admin"])
    for moment in ("20240105", "2024-01-05%2010:00", "2024-01-05T10"):
        reply = world.http.request("GET", f"/admin/audit?from={moment}", headers=headers)
        assert reply.status == 400, (moment, reply.body)
    reply = world.http.request("GET", "/admin/audit?from=2024-01-05T10:00Z", headers=headers)
    assert reply.status == 200, reply.body


def _spec_parameter(document, path, method, name):
    parameters = document["paths"][path][method].get("parameters", [])
    return next(parameter for parameter in parameters if parameter["name"] == name)


FIXED = {
    "audit-calendar-edges-500": bug_audit_calendar_edges,
    "analytics-calendar-edges-500": bug_analytics_calendar_edges,
    "analytics-day-not-yyyy-mm-dd": bug_analytics_day_not_yyyy_mm_dd,
    "audit-moment-shape-undocumented": bug_audit_moment_shape_undocumented,
}
