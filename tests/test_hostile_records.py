"""Records stored with claims nobody should believe, and lists that must survive them.

A video's duration is whatever its file's header said: a 55 KB MP4 can claim 13,600
years. Every playback token minted for it overflowed ``datetime`` (a 500 on the dashboard
for every user, until someone deleted it), and a 126-year clip got tokens that lived
46,296 days. Playback tokens now live at most ``PLAYBACK_TOKEN_MAX_HOURS``, and a list
item that cannot be built (a corrupt field) is logged and left out instead of failing the
page (docs/conventions.md#pagination).
"""

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from bson import ObjectId

from blueprints.schemas.common import UtcDateTime
from models.db import get_db
from services import tokens

YEAR = 365.25 * 24 * 3600
CEILING = timedelta(hours=12)  # PLAYBACK_TOKEN_MAX_HOURS' default
# What headers have claimed, as stored: the database keeps every one of them.
CLAIMED = {
    "13,600 years": 4.3e11,
    "126 years": 126 * YEAR,
    "infinity": float("inf"),
    "NaN": float("nan"),
    "negative": -60.0,
}


def strict_json(response):
    """The body as a JavaScript ``JSON.parse`` reads it: ``Infinity`` and ``NaN`` fail."""

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(response.get_data(as_text=True), parse_constant=refuse)


def lifetime_of(token):
    claims = tokens.decode(token, tokens.PLAYBACK)
    return timedelta(seconds=claims["exp"] - claims["iat"])


@pytest.fixture
def claimed_videos(library, multi_chunk_mp4):
    """A sane 2-second video and one per absurd duration, ready and public."""
    sane = library.ready_video(multi_chunk_mp4, title="Sane")
    absurd = {
        name: library.ready_video(multi_chunk_mp4, title=name, duration=seconds)
        for name, seconds in CLAIMED.items()
    }
    return sane, absurd


class TestAbsurdDurations:
    def test_the_dashboard_answers_everyone_and_caps_every_token(
        self, app, client, accounts, claimed_videos
    ):
        sane, absurd = claimed_videos
        for role in ("viewer", "creator", "admin"):
            response = client.get(
                "/dashboard", headers=accounts.bearer(accounts.user_with_token(role))
            )
            assert response.status_code == 200, response.json
            items = {item["id"]: item for item in strict_json(response)["videos"]}
            assert set(items) == {sane["id"], *(video["id"] for video in absurd.values())}
            with app.app_context():
                assert lifetime_of(items[sane["id"]]["playback_token"]) == timedelta(hours=1)
                for name in ("13,600 years", "126 years", "infinity"):
                    token = items[absurd[name]["id"]]["playback_token"]
                    assert lifetime_of(token) == CEILING, name
                for name in ("NaN", "negative"):  # no duration worth the name: the default hour
                    token = items[absurd[name]["id"]]["playback_token"]
                    assert lifetime_of(token) == timedelta(hours=1), name

    def test_durations_json_cannot_hold_are_null(self, client, accounts, viewer, claimed_videos):
        _, absurd = claimed_videos
        for path in ("/dashboard", "/videos"):
            response = client.get(path, headers=accounts.bearer(viewer))
            assert response.status_code == 200, response.json
            durations = {item["id"]: item["duration"] for item in strict_json(response)["videos"]}
            assert durations[absurd["13,600 years"]["id"]] == 4.3e11
            assert durations[absurd["infinity"]["id"]] is None
            assert durations[absurd["NaN"]["id"]] is None

    @pytest.mark.parametrize("name", ["13,600 years", "126 years", "infinity"])
    def test_a_token_for_it_is_minted_with_a_capped_life_and_plays(
        self, client, accounts, viewer, claimed_videos, name
    ):
        video = claimed_videos[1][name]
        before = datetime.now(UTC).replace(microsecond=0)
        minted = client.post(
            f"/video/{video['id']}/playback-token", headers=accounts.bearer(viewer)
        )
        assert minted.status_code == 200, minted.json
        expires_at = datetime.fromisoformat(minted.json["expires_at"].replace("Z", "+00:00"))
        assert before + CEILING <= expires_at <= datetime.now(UTC) + CEILING
        token = minted.json["playback_token"]
        stream = client.get(
            f"/video/{video['id']}/stream?token={token}", headers=accounts.bearer(viewer)
        )
        assert stream.status_code == 200, stream.json
        assert stream.json["expires_at"] == minted.json["expires_at"]
        media = client.get(
            f"/video/{video['id']}/media?token={token}", headers={"Range": "bytes=0-1"}
        )
        assert media.status_code == 206
        assert int(media.headers["Cache-Control"].rsplit("=", 1)[1]) <= CEILING.total_seconds()


class TestCorruptFields:
    """A field a document should never have held: that item is left out, the page is 200."""

    def corrupt(self, app, collection, document_id, **fields):
        with app.app_context():
            get_db()[collection].update_one({"_id": ObjectId(document_id)}, {"$set": fields})

    @pytest.mark.parametrize("path", ["/dashboard", "/videos"])
    def test_a_video_that_cannot_be_shown_is_left_out_and_logged(
        self, app, client, accounts, viewer, library, multi_chunk_mp4, caplog, path
    ):
        shown = library.ready_video(multi_chunk_mp4, title="Fine")
        broken = library.ready_video(multi_chunk_mp4, title="Broken views")
        self.corrupt(app, "videos", broken["id"], views="a great many")
        odd = library.ready_video(multi_chunk_mp4, title="Broken duration")
        self.corrupt(app, "videos", odd["id"], duration="forever")

        with caplog.at_level(logging.ERROR):
            response = client.get(path, headers=accounts.bearer(viewer))

        assert response.status_code == 200, response.json
        assert [item["id"] for item in response.json["videos"]] == [shown["id"]]
        logged = " ".join(record.getMessage() for record in caplog.records)
        assert broken["id"] in logged and odd["id"] in logged

    def test_an_account_that_cannot_be_shown_is_left_out_of_the_admin_list(
        self, app, client, accounts, caplog, monkeypatch
    ):
        """No stored user field fails its dump today (created_at, the one that could, is the
        list's order: a user without a date one is never read), so the failure is injected
        into one account's date: the list must be built item by item all the same."""
        admin = accounts.user_with_token("admin")
        fine, broken = accounts.signup(), accounts.signup()
        real = UtcDateTime._serialize

        def breaks_on_one_account(field, value, attr, obj, **kwargs):
            if str(obj.get("_id")) == broken["id"]:
                raise ValueError("a stored date that is no date")
            return real(field, value, attr, obj, **kwargs)

        monkeypatch.setattr(UtcDateTime, "_serialize", breaks_on_one_account)
        with caplog.at_level(logging.ERROR):
            response = client.get("/admin/users", headers=accounts.bearer(admin))

        assert response.status_code == 200, response.json
        ids = [user["id"] for user in response.json["users"]]
        assert fine["id"] in ids and broken["id"] not in ids
        assert broken["id"] in " ".join(record.getMessage() for record in caplog.records)
