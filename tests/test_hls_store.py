"""The HLS ladder as processing stores it: encrypted segments in GridFS, one key per ladder,
a summary on the video (docs/videos.md#the-hls-ladder).

Uploads go through the real pipeline (the ladder child encodes, the parent encrypts and
stores), on both database backends. Faults are injected into the real store: the Nth
segment store raises, or another job takes the video's lease half-way.
"""

import base64
import hashlib
import json
import logging
import math
import shutil
import subprocess
import threading
from datetime import timedelta
from types import SimpleNamespace

import gridfs
import pytest
from bson import ObjectId
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pymongo.errors import AutoReconnect

import config_hls
from config import ConfigError, load_config
from demo import synthetic_media
from models import hls, media_file
from models.common import utcnow
from models.db import get_db
from services.media import hls_store, ladder_plan
from tests.support.accounts import PASSWORD, Accounts
from tests.support.stored import on_segment_store, video_document
from tests.support.tools import require_tool
from tests.support.uploads import gridfs_counts, upload, wait_until_processed

WAIT = 120  # seconds: only a broken job waits this long; no assertion is timed


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """640x360, 7 s at 24 fps, with sound: two rungs (360p, 240p) of two segments each."""
    folder = tmp_path_factory.mktemp("hls-store")
    return synthetic_media.write_video(folder / "clip.mp4", seconds=7, width=640, height=360)


@pytest.fixture
def creator(accounts):
    return accounts.bearer(accounts.user_with_token("creator"))


def decrypt(key, iv, data):
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = decryptor.update(data) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def segment_files(app, **query):
    with app.app_context():
        found = get_db().fs.files.find({"metadata.role": "hls_segment", **query})
        return sorted(found, key=lambda f: (f["metadata"]["rendition"], f["metadata"]["n"]))


def stored_keys(app):
    with app.app_context():
        return list(get_db().hls_keys.find())


def read_file(app, file_id):
    with app.app_context():
        return gridfs.GridFSBucket(get_db()).open_download_stream(file_id).read()


def ffprobe_video(path):
    found = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        text=True,
    )
    streams = json.loads(found.stdout)["streams"]
    return next(s for s in streams if s["codec_type"] == "video")


def process(client, creator, path):
    video_id = upload(client, creator, path).json["video"]["id"]
    video = wait_until_processed(client, creator, video_id, timeout=WAIT)
    assert video["status"] == "ready", video.get("failure_reason")
    return video_id


class TestEncryption:
    def test_a_segment_decrypts_to_itself_with_its_key_and_iv(self):
        key, iv = bytes(range(16)), bytes(range(16, 32))
        for size in (0, 1, 15, 16, 17, 188 * 7):
            plain = bytes((n * 7) % 256 for n in range(size))
            sealed = hls_store.encrypt(key, iv, plain)
            assert len(sealed) % 16 == 0 and len(sealed) > size  # PKCS7 always pads
            assert decrypt(key, iv, sealed) == plain

    def test_openssl_decrypts_it_as_players_do(self, tmp_path):
        """An implementation other than ours: AES-128-CBC with PKCS7, as RFC 8216 says."""
        require_tool(shutil.which("openssl"), "openssl")
        key, iv, plain = b"k" * 16, b"i" * 16, b"\x47" + bytes(range(187)) * 3
        sealed = tmp_path / "sealed"
        sealed.write_bytes(hls_store.encrypt(key, iv, plain))
        opened = subprocess.run(
            ["openssl", "enc", "-d", "-aes-128-cbc", "-K", key.hex(), "-iv", iv.hex()],
            stdin=sealed.open("rb"),
            capture_output=True,
            check=True,
        )
        assert opened.stdout == plain


class TestAnUpload:
    def test_it_ends_ready_with_a_ladder_whose_segments_decrypt_to_ts(
        self, app, client, creator, clip, tmp_path
    ):
        require_tool(shutil.which("ffprobe"), "ffprobe")
        video_id = process(client, creator, clip)
        video = video_document(app, video_id)
        ladder = video["hls"]["ladder"]
        assert "hls_job" not in video
        assert [r["name"] for r in video["hls"]["renditions"]] == ["360p", "240p"]
        (key,) = stored_keys(app)
        assert (key["_id"], key["video_id"], len(key["key"])) == (ladder, video["_id"], 16)
        files = segment_files(app, **{"metadata.video_id": video["_id"]})
        for rendition in video["hls"]["renditions"]:
            mine = [f for f in files if f["metadata"]["rendition"] == rendition["name"]]
            numbers = [f["metadata"]["n"] for f in mine]
            assert numbers == list(range(rendition["segments"])) == [0, 1]
            for stored in mine:
                meta = stored["metadata"]
                assert (meta["ladder"], meta["contentType"]) == (ladder, "video/mp2t")
                sealed = read_file(app, stored["_id"])
                assert meta["sha256"] == hashlib.sha256(sealed).hexdigest()
                assert len(meta["iv"]) == 32 and stored["length"] == len(sealed)
                plain = tmp_path / f"{rendition['name']}-{meta['n']}.ts"
                plain.write_bytes(decrypt(key["key"], bytes.fromhex(meta["iv"]), sealed))
                shown = ffprobe_video(plain)
                assert (shown["codec_name"], shown["width"], shown["height"]) == (
                    "h264",
                    rendition["width"],
                    rendition["height"],
                )
        assert len({f["metadata"]["iv"] for f in files}) == len(files) == 4  # one IV each

    def test_the_summary_is_measured_on_the_encrypted_segments(self, app, client, creator, clip):
        video_id = process(client, creator, clip)
        video = video_document(app, video_id)
        for rendition in video["hls"]["renditions"]:
            files = segment_files(app, **{"metadata.rendition": rendition["name"]})
            rates = [f["length"] * 8 / f["metadata"]["duration"] for f in files]
            seconds = sum(f["metadata"]["duration"] for f in files)
            assert rendition["bandwidth"] == math.ceil(max(rates))
            total = sum(f["length"] for f in files) * 8
            assert rendition["average_bandwidth"] == math.ceil(total / seconds)
            assert rendition["target_duration"] == 6 and rendition["frame_rate"] == 24.0
            assert rendition["codecs"].startswith("avc1.64") and "mp4a.40.2" in rendition["codecs"]
            assert seconds == pytest.approx(7.0, abs=0.05)

    def test_its_key_appears_in_no_answer_and_no_log(self, make_app, clip, caplog):
        app = make_app(LOG_LEVEL="DEBUG")  # pymongo's command log would print the key
        logging.getLogger().addHandler(caplog.handler)  # the app set the root's handlers
        caplog.set_level(logging.DEBUG)
        client = app.test_client()
        accounts = Accounts(client, app)
        creator = accounts.bearer(accounts.user_with_token("creator"))
        video_id = process(client, creator, clip)
        (key,) = stored_keys(app)
        spellings = {
            key["key"].hex(),
            key["key"].hex().upper(),
            base64.b64encode(key["key"]).decode(),
            base64.urlsafe_b64encode(key["key"]).decode().rstrip("="),
        }
        viewer = accounts.bearer(accounts.user_with_token("viewer"))
        answers = [
            client.get(f"/video/{video_id}", headers=creator),
            client.get(f"/video/{video_id}/status", headers=creator),
            client.get("/videos", headers=viewer),
            client.get("/dashboard", headers=viewer),
            client.post(f"/video/{video_id}/playback-token", headers=viewer),
            client.get("/me/export", headers=creator),
        ]
        assert [answer.status_code for answer in answers] == [200] * len(answers)
        assert video_id in answers[2].get_data(as_text=True)  # the listing has the video
        texts = [answer.get_data(as_text=True) for answer in answers] + [caplog.text]
        assert "services.media.jobs" in caplog.text  # the job's log was heard
        assert not [s for s in spellings for text in texts if s in text]
        assert not _binary_values(video_document(app, video_id))  # no key on the video document

    def test_audio_gets_no_ladder(self, app, client, creator, media):
        video_id = process(client, creator, media["mp3"])
        video = video_document(app, video_id)
        assert "hls" not in video and "hls_job" not in video
        assert segment_files(app) == [] and stored_keys(app) == []

    def test_purge_removes_every_segment_and_key(self, app, client, accounts, creator, clip):
        video_id = process(client, creator, clip)
        assert segment_files(app) and stored_keys(app)
        admin = accounts.bearer(accounts.user_with_token("admin"))
        assert client.delete(f"/video/{video_id}?purge=true", headers=admin).status_code == 200
        assert segment_files(app) == [] and stored_keys(app) == []
        assert gridfs_counts(app) == (0, 0)

    def test_deleting_the_account_removes_every_segment_and_key(self, app, client, creator, clip):
        process(client, creator, clip)
        assert segment_files(app) and stored_keys(app)
        deleted = client.delete("/me", json={"password": PASSWORD}, headers=creator)
        assert deleted.status_code == 202
        app.extensions["account_deletions"].executor.submit(lambda: None).result(timeout=WAIT)
        assert segment_files(app) == [] and stored_keys(app) == []
        assert gridfs_counts(app) == (0, 0)

    def test_with_no_renditions_configured_no_ladder_is_made(self, make_app, accounts, clip):
        app = make_app(HLS_MAX_RENDITIONS=0)
        client = app.test_client()
        creator = accounts.bearer(accounts.user_with_token("creator"))
        video = video_document(app, process(client, creator, clip))
        assert "hls" not in video and "hls_job" not in video and segment_files(app) == []


def _binary_values(value):
    if isinstance(value, dict):
        return [found for item in value.values() for found in _binary_values(item)]
    if isinstance(value, list):
        return [found for item in value for found in _binary_values(item)]
    return [value] if isinstance(value, bytes) else []


class TestFailures:
    def test_a_store_failing_half_way_leaves_no_segment_no_key_and_the_video_ready(
        self, app, client, creator, clip, monkeypatch, caplog
    ):
        def refuse(metadata):
            raise OSError("the disk is full")

        seen = on_segment_store(monkeypatch, 3, refuse)
        video_id = process(client, creator, clip)
        video = video_document(app, video_id)
        assert len(seen) == 3  # two segments were stored before
        assert "hls" not in video
        assert video["hls_job"]["state"] == "failed"
        assert "the disk is full" in video["hls_job"]["failure"]
        assert segment_files(app) == [] and stored_keys(app) == []
        served = {video["media_file_id"], video["thumbnail_file_id"]}
        with app.app_context():
            assert set(get_db().fs.files.distinct("_id")) == served
            assert set(get_db().fs.chunks.distinct("files_id")) == served
        assert f"video {video_id} has no HLS ladder" in caplog.text

    def test_a_lost_lease_mid_ladder_discards_its_files(
        self, app, client, creator, clip, monkeypatch
    ):
        taken = threading.Event()

        def take_the_lease(metadata):
            with app.app_context():  # another process's sweep claimed the video
                get_db().videos.update_one(
                    {"_id": metadata["video_id"]},
                    {"$set": {"lease_owner": "another job", "lease_until": utcnow() + HOUR}},
                )
            taken.set()

        on_segment_store(monkeypatch, 2, take_the_lease)
        video_id = upload(client, creator, clip).json["video"]["id"]
        assert taken.wait(WAIT)
        app.extensions["media_jobs"].executor.shutdown(wait=True)
        video = video_document(app, video_id)
        assert (video["status"], video["lease_owner"]) == ("processing", "another job")
        assert segment_files(app) == [] and stored_keys(app) == []
        with app.app_context():  # its rendition and thumbnail went too; the source is the holder's
            assert set(get_db().fs.files.distinct("_id")) == {video["source_file_id"]}

    def test_a_ladder_delete_while_the_database_is_away_is_retried(self, app, monkeypatch):
        """A failed ladder is deleted after the failure, often the database going away: the
        delete must not give up (or raise) when its own first attempt fails too."""
        video_id, ladder = ObjectId(), ObjectId()
        with app.app_context():
            hls.store_key(ladder, video_id, b"k" * 16)
            metadata = hls.segment_metadata(video_id, ladder, "240p", 0, 2.0, "0" * 32, "")
            media_file.store_bytes(b"sealed", "0.ts", "video/mp2t", metadata)
        real_delete, attempts, retries = hls._delete_ladder, [], []

        def away_then_back(database, video, doomed):
            attempts.append(doomed)
            if len(attempts) == 1:
                raise AutoReconnect("the database is away")
            real_delete(database, video, doomed)

        def run_at_start(target, args, name, daemon):  # the retry thread, run in this thread
            return SimpleNamespace(start=lambda: (retries.append(name), target(*args)))

        monkeypatch.setattr(hls, "_delete_ladder", away_then_back)
        monkeypatch.setattr(media_file.time, "sleep", lambda seconds: None)
        monkeypatch.setattr(media_file.threading, "Thread", run_at_start)
        with app.app_context():
            hls.delete_ladder(video_id, ladder)
        assert retries == ["ladder-cleanup"] and attempts == [ladder, ladder]
        assert segment_files(app) == [] and stored_keys(app) == []
        assert gridfs_counts(app) == (0, 0)


HOUR = timedelta(hours=1)


class TestSettings:
    def test_the_defaults_are_the_ladder_planner_s(self):
        config = load_config({"APP_ENV": "testing"})
        settings = hls_store.settings_from(config)
        assert settings == ladder_plan.DEFAULT_SETTINGS
        assert config["HLS_JOB_MEMORY_MB"] == 1536

    def test_the_wall_budget_grows_with_the_duration(self):
        config = load_config({"APP_ENV": "testing"})
        assert hls_store.budget(config, 10).seconds == config["MEDIA_JOB_SECONDS"]
        assert hls_store.budget(config, 3600).seconds == 3 * 3600
        assert hls_store.budget(config, None).memory_mb == 1536

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("HLS_MAX_RENDITIONS", 6),
            ("HLS_MAX_RENDITIONS", -1),
            ("HLS_SEGMENT_SECONDS", 1),
            ("HLS_JOB_MEMORY_MB", 100),
            ("HLS_X264_PRESET", "placebo-ish"),
        ],
    )
    def test_a_setting_out_of_range_stops_the_start(self, name, value):
        with pytest.raises(ConfigError, match=name):
            load_config({"APP_ENV": "testing", name: value})

    def test_every_setting_has_bounds_or_a_preset_list(self):
        names = set(config_hls.hls_settings())
        bounded = {name for name, _, _ in config_hls.BOUNDS}
        assert names == bounded | {"HLS_X264_PRESET", "HLS_X264_PRESET_HIGH"}
