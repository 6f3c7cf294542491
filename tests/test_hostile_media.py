"""Hostile uploads: files that make FFmpeg open other files, claim absurd durations,
sizes or frame rates, or blow up only once processing decodes them (docs/videos.md#upload)."""

import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from demo import synthetic_media
from models.db import get_db
from tests.support import hostile_media as hostile
from tests.support.errors import assert_error
from tests.support.uploads import eventually, gridfs_counts, upload, wait_until_processed


@pytest.fixture
def creator(accounts):
    return accounts.bearer(accounts.user_with_token("creator"))


@pytest.fixture
def canary():
    """A real clip beside the spooled uploads (the temp dir), watched for any opening.

    A script naming it by a relative name is what FFmpeg would follow from there."""
    folder = Path(tempfile.gettempdir())
    name = f"canary-{uuid.uuid4().hex}"
    clip = synthetic_media.write_video(folder / f"{name}.ts", container="mpegts")
    watch = hostile.OpenWatch(clip)
    yield clip.name, watch
    watch.close()
    clip.unlink()


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bombs")
    clip = synthetic_media.write_video(folder / "clip.mp4")

    def patched(name):
        return Path(shutil.copy(clip, folder / name))

    grey, huge = hostile.grey_jpeg(16), hostile.grey_jpeg(16000)
    return {
        # 48 frames, one an hour each: 48 hours of timestamps in 30 KB.
        "frames_an_hour_apart": hostile.set_sample_deltas(patched("a.mp4"), 0, 12288 * 3600),
        # 8 hours (under the cap) for 48 frames: a frame every 10 minutes is no video.
        "frames_ten_minutes_apart": hostile.set_sample_deltas(patched("b.mp4"), 0, 12288 * 600),
        # Headers: a time scale of 1 and the largest duration they can hold (136 years).
        "headers_claim_136_years": hostile.set_header_duration(
            hostile.set_header_duration(patched("c.mp4"), b"mvhd", 2**32 - 1, 1),
            b"mdhd",
            2**32 - 1,
            1,
        ),
        "8192x8192": hostile.mjpeg_mov(folder / "d.mov", [hostile.grey_jpeg(8192)], 8192),
        "1000_fps": hostile.mjpeg_mov(folder / "e.mov", [grey] * 30, rate=1000),
        # The track header says 16x16, the first frame 16000x16000 (256 MB to decode).
        "first_frame_16000x16000": hostile.mjpeg_mov(folder / "f.mov", [huge]),
        # Passes the upload probe (header and first frame 16x16); the second frame does not.
        "later_frame_16000x16000": hostile.mjpeg_mov(folder / "g.mov", [grey, huge, grey]),
    }


def assert_nothing_stored(app):
    assert gridfs_counts(app) == (0, 0)
    with app.app_context():
        assert get_db().videos.count_documents({}) == 0


class TestFilesThatOpenOtherFiles:
    @pytest.mark.parametrize("script", [hostile.ffconcat_naming, hostile.hls_naming])
    def test_is_422_and_the_named_file_is_never_opened(
        self, client, app, creator, canary, tmp_path, script
    ):
        name, watch = canary
        upload_file = tmp_path / "holiday.mp4"
        upload_file.write_bytes(script(name))
        body = assert_error(upload(client, creator, upload_file), 422, "unsupported_media")
        assert "container we accept" in body["details"]["file"][0]
        assert_nothing_stored(app)
        assert not watch.opened()


class TestAbsurdClaims:
    @pytest.mark.parametrize(
        "name, reason",
        [
            ("frames_an_hour_apart", "over the limit of 12 hours"),
            ("frames_ten_minutes_apart", "48 frames cannot last"),
            ("headers_claim_136_years", "cannot last"),
            ("8192x8192", "8192x8192 picture is over the limit"),
            ("1000_fps", "1000 frames a second is over the limit of 240"),
            ("first_frame_16000x16000", "16000x16000 picture is over the limit"),
        ],
    )
    def test_is_422_before_anything_is_stored(self, client, app, creator, bombs, name, reason):
        body = assert_error(upload(client, creator, bombs[name]), 422, "unsupported_media")
        assert reason in body["details"]["file"][0]
        assert_nothing_stored(app)

    def test_limits_come_from_the_configuration(self, make_app, accounts, media):
        app = make_app(MAX_VIDEO_DIMENSION=200)  # the clip is 320x240
        client = app.test_client()
        creator = accounts.bearer(accounts.user_with_token("creator"))
        body = assert_error(upload(client, creator, media["h264"]), 422, "unsupported_media")
        assert "limit of 200 px a side" in body["details"]["file"][0]

    def test_a_probe_past_the_memory_budget_is_422(self, make_app, accounts, bombs):
        # Limits loose enough to let a 16000x16000 frame through: the budget still holds.
        app = make_app(
            MEDIA_JOB_MEMORY_MB=200, MAX_VIDEO_DIMENSION=20000, MAX_VIDEO_PIXELS=20000**2
        )
        client = app.test_client()
        creator = accounts.bearer(accounts.user_with_token("creator"))
        upload_file = bombs["first_frame_16000x16000"]
        body = assert_error(upload(client, creator, upload_file), 422, "unsupported_media")
        assert "ran out of its memory budget (200 MB)" in body["details"]["file"][0]
        assert_nothing_stored(app)


class TestBombsFoundByProcessing:
    def test_a_picture_over_the_limits_fails_the_video(self, client, app, creator, bombs):
        response = upload(client, creator, bombs["later_frame_16000x16000"])
        assert response.status_code == 202, response.json
        video = wait_until_processed(client, creator, response.json["video"]["id"])
        assert video["status"] == "failed"
        assert "16000x16000 picture is over the limit" in video["failure_reason"]
        assert eventually(lambda: gridfs_counts(app) == (0, 0))

    def test_decoding_past_the_memory_budget_stops_the_child_not_the_api(
        self, make_app, accounts, bombs
    ):
        app = make_app(MEDIA_JOB_MEMORY_MB=200)
        client = app.test_client()
        creator = accounts.bearer(accounts.user_with_token("creator"))
        reset_peak_memory()
        response = upload(client, creator, bombs["later_frame_16000x16000"])
        assert response.status_code == 202, response.json
        video = wait_until_processed(client, creator, response.json["video"]["id"])
        assert video["status"] == "failed"
        assert "ran out of its memory budget (200 MB)" in video["failure_reason"]
        # The 256 MB frame was never decoded in this process.
        assert peak_memory_mb() - current_memory_mb() < 150


def _status_kb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/self/status")


def reset_peak_memory():
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def peak_memory_mb():
    return _status_kb("VmHWM") / 1024


def current_memory_mb():
    return _status_kb("VmRSS") / 1024
