"""Races the database must decide, run for real on the embedded server.

Two racing signups give one user (a unique index, not a lookup, decides:
docs/accounts.md#signup); a view is counted once per user and video per 30
minutes, and only at a playback token's first play, however many range
requests and tokens race (docs/playback.md#views).

Concurrency is real, not a loop of calls: every request has its own thread
and its own Flask test client (one client must not be shared between
threads), all threads wait at a Barrier and go together, and the requests are
spread over two app instances on the same database, as over two workers. A
WSGI wrapper counts the requests inside the apps at once; each test asserts
that several did overlap, so a run that happened to go one by one cannot pass
for a race.

services.playback keeps the tokens it has counted in a module-level cache,
shared by every app in this process (so two app instances alone do not
separate it). The playback tests therefore also run with that cache replaced
by one that never remembers, as if each request landed on a fresh worker:
then every request reaches the database, and only the unique ``_id`` of
``playback_views`` and ``recent_views`` can keep the count right.
"""

import threading
from collections import Counter
from functools import partial

import pytest
from bson import ObjectId

from models import playback_view
from models.db import get_db
from services import playback
from tests.support.accounts import PASSWORD
from tests.support.concurrency import InFlight, all_at_once

embedded_only = pytest.mark.parametrize("backend", ["embedded"], indirect=True)


# ---------------------------------------------------------------------------
# Signups


@embedded_only
def test_twenty_racing_signups_with_one_email_make_one_account(make_app):
    in_flight = InFlight()
    apps = [in_flight.wrap(make_app()), in_flight.wrap(make_app())]
    # docs/accounts.md#signup: emails are trimmed and lower-cased, so these are all one address.
    spellings = ["race@example.com", "Race@Example.COM", "  RACE@example.com "]
    calls = [
        partial(
            apps[n % 2].test_client().post,
            "/auth/signup",
            json={"name": f"Racer {n}", "email": spellings[n % 3], "password": PASSWORD},
        )
        for n in range(20)
    ]
    responses = all_at_once(calls)

    statuses = Counter(response.status_code for response in responses)
    assert statuses == {201: 1, 409: 19}, [(r.status_code, r.get_json()) for r in responses]
    assert all(r.json["code"] == "email_taken" for r in responses if r.status_code == 409)
    winner = next(r.json for r in responses if r.status_code == 201)
    with apps[0].app_context():
        admin = apps[0].config["ADMIN_EMAIL"]
        accounts = list(get_db().users.find({"email": {"$ne": admin}}))
    assert [str(account["_id"]) for account in accounts] == [winner["user_id"]]
    assert accounts[0]["email"] == "race@example.com"
    assert in_flight.peak >= 5, "the signups never overlapped: this was not a race"


# ---------------------------------------------------------------------------
# Playback sessions


class Forgetful:
    """A services.recent.Recent that never remembers: every request as if on a fresh worker."""

    def __contains__(self, token_id):
        return False

    def remember(self, token_id):
        pass


class FirstUses:
    """Spies on playback_view.first_use: how often the database was asked, and said yes."""

    def __init__(self, monkeypatch):
        self.asked = self.counted = 0
        self._lock = threading.Lock()
        real = playback_view.first_use

        def spy(*args, **kwargs):
            first = real(*args, **kwargs)
            with self._lock:
                self.asked += 1
                self.counted += first
            return first

        monkeypatch.setattr(playback_view, "first_use", spy)


MEMORY = pytest.mark.parametrize("memory", ["process cache", "no cache (a fresh worker each)"])


@pytest.fixture
def race(app, make_app, library, monkeypatch, memory):
    """Two app instances on one database, a ready video, and the first-use spy."""
    in_flight = InFlight()
    apps = [in_flight.wrap(app), in_flight.wrap(make_app())]
    if memory.startswith("no cache"):
        monkeypatch.setattr(playback, "_counted", Forgetful())
    return apps, in_flight, FirstUses(monkeypatch)


def ranges_of(size):
    middle = size // 2
    return ["bytes=0-1", f"bytes={middle}-{middle + 70_000}", "bytes=-4096"]


def requested_span(range_header, size):
    """(first, last) byte of a single ``bytes=a-b``, ``bytes=a-`` or ``bytes=-n`` range."""
    unit, _, spec = range_header.partition("=")
    assert unit == "bytes" and "," not in spec, range_header
    start, _, end = spec.partition("-")
    if not start:  # the last ``end`` bytes
        return max(size - int(end), 0), size - 1
    return int(start), min(int(end), size - 1) if end else size - 1


def assert_partial(response, data, range_header):
    assert response.status_code == 206, (range_header, response.status_code, response.data[:200])
    first, last = requested_span(range_header, len(data))
    # The range asked for, not just whatever range the response says it holds.
    assert response.headers["Content-Range"] == f"bytes {first}-{last}/{len(data)}", range_header
    assert response.data == data[first : last + 1]


def views_of(app, video_id):
    with app.app_context():
        database = get_db()
        video = database.videos.find_one({"_id": ObjectId(video_id)})
        sessions = list(database.playback_views.find({"video_id": ObjectId(video_id)}))
        windows = list(database.recent_views.find({"video_id": ObjectId(video_id)}))
    return video["views"], sessions, windows


def race_first_plays(apps, in_flight, video, tokens):
    """Every token's first plays (three ranges each), all at once, over both apps."""
    requests = [
        (apps[(n + k) % 2].test_client(), token, range_header)
        for n, token in enumerate(tokens)
        for k, range_header in enumerate(ranges_of(len(video["bytes"])))
    ]
    in_flight.reset()
    responses = all_at_once(
        [
            partial(client.get, f"/video/{video['id']}/media?token={token}", headers={"Range": rh})
            for client, token, rh in requests
        ]
    )
    for (_, _, range_header), response in zip(requests, responses, strict=True):
        assert_partial(response, video["bytes"], range_header)


@embedded_only
@MEMORY
def test_twenty_concurrent_sessions_of_four_users_count_four_views(
    race, library, accounts, multi_chunk_mp4, memory
):
    apps, in_flight, first_uses = race
    video = library.ready_video(multi_chunk_mp4)
    viewers = [accounts.user_with_token("viewer") for _ in range(4)]
    tokens = [library.playback_token(video["id"], viewers[n % 4]) for n in range(20)]
    assert len(set(tokens)) == 20
    race_first_plays(apps, in_flight, video, tokens)

    views, sessions, windows = views_of(apps[0], video["id"])
    assert views == 4  # one per user: docs/playback.md#views
    assert len(sessions) == 20
    assert len({session["user_id"] for session in sessions}) == 4
    assert len(windows) == 4
    assert first_uses.counted == 20
    if memory.startswith("no cache"):
        assert first_uses.asked == 60  # 40 duplicates reached the database and were refused
    assert in_flight.peak >= 5, "the requests never overlapped: this was not a race"


@embedded_only
@MEMORY
def test_twenty_new_tokens_of_one_user_racing_count_one_view(
    race, library, viewer, multi_chunk_mp4, memory
):
    apps, in_flight, first_uses = race
    video = library.ready_video(multi_chunk_mp4)
    tokens = [library.playback_token(video["id"], viewer) for _ in range(20)]
    race_first_plays(apps, in_flight, video, tokens)

    views, sessions, windows = views_of(apps[0], video["id"])
    assert views == 1
    assert len(sessions) == 20  # each token played once; only one of them counted
    assert len(windows) == 1
    assert first_uses.counted == 20
    assert in_flight.peak >= 5, "the requests never overlapped: this was not a race"


@embedded_only
@MEMORY
def test_one_session_racing_itself_counts_one_view(race, library, viewer, multi_chunk_mp4, memory):
    apps, in_flight, first_uses = race
    video = library.ready_video(multi_chunk_mp4)
    token = library.playback_token(video["id"], viewer)
    url = f"/video/{video['id']}/media?token={token}"
    ranges = ranges_of(len(video["bytes"])) * 4  # the same ranges again and again
    clients = [apps[n % 2].test_client() for n in range(len(ranges))]
    in_flight.reset()
    responses = all_at_once(
        [
            partial(client.get, url, headers={"Range": rh})
            for client, rh in zip(clients, ranges, strict=True)
        ]
    )

    for range_header, response in zip(ranges, responses, strict=True):
        assert_partial(response, video["bytes"], range_header)
    views, sessions, _ = views_of(apps[0], video["id"])
    assert views == 1
    assert len(sessions) == 1
    assert first_uses.counted == 1
    if memory.startswith("no cache"):
        assert first_uses.asked == len(ranges)
    assert in_flight.peak >= 5, "the requests never overlapped: this was not a race"
