"""What a process remembers of a byte request's checks (services/playback_memo.py).

A player's next ranges skip the session, user, video and file reads for half a second; a
change made through the same process is seen at once, one made by another process (here: a
second app on the same database, or a write straight to the database) within a second.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from models.db import get_db
from services.playback_memo import REMEMBER_SECONDS, PlaybackMemo
from tests.support.errors import assert_error
from tests.support.payments import VISA, Shop
from tests.support.records import PRICE, Records


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class TestMemo:
    def test_a_grant_lasts_its_seconds_and_no_longer(self):
        clock = Clock()
        memo = PlaybackMemo(seconds=0.5, clock=clock)
        memo.keep("k", memo.generation(), "grant")
        clock.now += 0.49
        assert memo.get("k") == "grant"
        clock.now += 0.02
        assert memo.get("k") is None

    def test_a_change_voids_every_grant(self):
        memo = PlaybackMemo()
        memo.keep("k", memo.generation(), "grant")
        memo.forget_all()
        assert memo.get("k") is None

    def test_checks_that_ran_across_a_change_are_not_kept(self):
        memo = PlaybackMemo()
        before = memo.generation()
        memo.forget_all()  # a logout answered while the checks were reading
        memo.keep("k", before, "stale grant")
        assert memo.get("k") is None

    def test_expired_grants_do_not_pile_up(self):
        clock = Clock()
        memo = PlaybackMemo(seconds=0.5, clock=clock)
        for n in range(100):
            memo.keep(n, memo.generation(), "grant")
            clock.now += 0.1
        assert len(memo._items) <= 6

    def test_requests_arriving_during_the_checks_wait_for_their_answer(self):
        memo, started, release = PlaybackMemo(), threading.Event(), threading.Event()
        calls = []

        def slow_check():
            calls.append("first")
            started.set()
            release.wait(10)
            return "grant"

        first = ThreadPoolExecutor(1).submit(memo.check_once, "k", slow_check)
        started.wait(10)
        second = ThreadPoolExecutor(1).submit(memo.check_once, "k", lambda: calls.append("2nd"))
        release.set()
        assert first.result(10) == "grant" and second.result(10) == "grant"
        assert calls == ["first"]

    def test_after_a_refusal_each_waiting_request_checks_for_itself(self):
        memo, started, release = PlaybackMemo(), threading.Event(), threading.Event()

        def refused():
            started.set()
            release.wait(10)
            raise PermissionError("session revoked")

        first = ThreadPoolExecutor(1).submit(memo.check_once, "k", refused)
        started.wait(10)
        second = ThreadPoolExecutor(1).submit(memo.check_once, "k", lambda: "checked again")
        release.set()
        with pytest.raises(PermissionError):
            first.result(10)
        assert second.result(10) == "checked again"
        assert memo.get("k") == "checked again"


@pytest.fixture
def clock(app):
    clock = Clock()
    app.extensions["playback_memo"].clock = clock
    return clock


@pytest.fixture
def played(library, multi_chunk_mp4, viewer, client):
    video = library.ready_video(multi_chunk_mp4)
    token = library.playback_token(video["id"], viewer)
    url = f"/video/{video['id']}/media?token={token}"
    assert client.get(url, headers={"Range": "bytes=0-1"}).status_code == 206
    return video, url


def ranged(client, url):
    return client.get(url, headers={"Range": "bytes=2-3"})


class TestMediaRequests:
    def test_the_next_range_makes_no_session_read(self, app, client, clock, played):
        """The session is gone from the database, yet the next range plays: it was not read.
        Half a second later it is, and the token stops."""
        _, url = played
        with app.app_context():
            get_db().sessions.delete_many({})
        assert ranged(client, url).status_code == 206
        clock.now += REMEMBER_SECONDS
        assert_error(ranged(client, url), 401, "session_revoked")

    def test_a_logout_through_this_process_stops_the_next_range(
        self, client, accounts, clock, viewer, played
    ):
        _, url = played
        client.post("/auth/logout", headers=accounts.bearer(viewer))
        assert_error(ranged(client, url), 401, "session_revoked")

    def test_refusals_are_never_remembered(
        self, app, client, clock, accounts, library, multi_chunk_mp4
    ):
        """Refunded, then bought again elsewhere: with the clock standing still, the very
        next request plays. A remembered refusal would go on refusing."""
        shop = Records(app)
        video = library.ready_video(multi_chunk_mp4, access="paid", price=PRICE)
        viewer = accounts.user_with_token()
        purchase = shop.buy(viewer["user"]["id"], "video", video["id"])
        url = f"/video/{video['id']}/media?token={library.playback_token(video['id'], viewer)}"
        assert ranged(client, url).status_code == 206
        shop.refund(purchase)
        clock.now += REMEMBER_SECONDS
        assert_error(ranged(client, url), 403, "purchase_required")
        shop.buy(viewer["user"]["id"], "video", video["id"])
        assert ranged(client, url).status_code == 206


class TestAnotherProcess:
    """Two apps on one database: the changes go through the second, as on another worker."""

    @pytest.fixture
    def other(self, make_app):
        return make_app().test_client()

    def test_a_logout_elsewhere_stops_media_within_a_second(
        self, other, client, accounts, viewer, played
    ):
        _, url = played
        assert other.post("/auth/logout", headers=accounts.bearer(viewer)).status_code == 200
        time.sleep(1)
        assert_error(ranged(client, url), 401, "session_revoked")

    def test_a_deletion_elsewhere_stops_media_within_a_second(self, other, client, library, played):
        video, url = played
        owner = library.accounts.bearer(library.owner)
        assert other.delete(f"/video/{video['id']}", headers=owner).status_code in (200, 204)
        time.sleep(1)
        assert_error(ranged(client, url), 404, "video_not_found")

    def test_a_refund_elsewhere_stops_media_within_a_second(
        self, app, other, client, accounts, library, multi_chunk_mp4
    ):
        video = library.ready_video(multi_chunk_mp4, access="paid", price=PRICE)
        shop = Shop(app, client, accounts)
        bought = shop.buy_video(video["id"], VISA)
        assert bought.status_code in (200, 201, 202), bought.json
        shop.deliver()
        url = f"/video/{video['id']}/media?token={library.playback_token(video['id'], shop.buyer)}"
        assert ranged(client, url).status_code == 206
        purchase = bought.json["purchase"]["id"]
        admin = accounts.bearer(shop.admin())
        refund = other.post(f"/purchases/{purchase}/refund", headers=admin)
        assert refund.status_code == 200, refund.json
        time.sleep(1)
        assert_error(ranged(client, url), 403, "purchase_required")
