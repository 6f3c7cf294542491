"""The tus 1.0 protocol at /uploads/, request by request (docs/uploads.md): discovery,
creation and its metadata rules, HEAD, PATCH's refusals, termination, expiry and its sweep,
non-media and who may upload. Real clients: test_tuspy.py, test_tus_js.py."""

import base64
import threading
from datetime import timedelta

import pytest
import requests
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError

from models.common import utcnow
from models.db import get_db
from tests.support.errors import assert_error

TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = "application/offset+octet-stream"


def metadata(**fields):
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in fields.items()
    )


def bearer(token):
    return {"Authorization": f"Bearer {token}", **TUS}


@pytest.fixture
def creator(accounts):
    return accounts.user_with_token("creator")["token"]


def create(client, token, length=1000, **fields):
    fields.setdefault("title", "A clip")
    headers = {**bearer(token), "Upload-Length": str(length), "Upload-Metadata": metadata(**fields)}
    return client.post("/uploads/", headers=headers)


def path_of(reply):
    return "/uploads/" + reply.headers["Location"].rsplit("/", 1)[1]


def patch(client, token, path, offset, body, **extra):
    headers = {**bearer(token), "Upload-Offset": str(offset), "Content-Type": OCTETS, **extra}
    return client.patch(path, data=body, headers=headers)


def stored(app):
    with app.app_context():
        database = get_db()
        return (
            database.tus_uploads.count_documents({}),
            database.fs.chunks.count_documents({}),
            database.fs.files.count_documents({}),
        )


class TestDiscoveryAndVersion:
    def test_options_advertises_what_the_server_speaks(self, client, app):
        reply = client.options("/uploads/")
        assert reply.status_code == 204
        assert reply.headers["Tus-Version"] == "1.0.0"
        assert reply.headers["Tus-Resumable"] == "1.0.0"
        extensions = set(reply.headers["Tus-Extension"].split(","))
        assert extensions == {"creation", "termination", "expiration", "checksum"}
        assert reply.headers["Tus-Checksum-Algorithm"] == "sha1"
        assert int(reply.headers["Tus-Max-Size"]) == app.config["MAX_UPLOAD_MB"] * 1024 * 1024

    def test_another_version_is_412_with_the_one_spoken(self, client, creator):
        headers = {**bearer(creator), "Tus-Resumable": "0.2.2", "Upload-Length": "10"}
        reply = client.post("/uploads/", headers=headers)
        assert_error(reply, 412, "unsupported_tus_version")
        assert reply.headers["Tus-Version"] == "1.0.0"
        assert reply.headers["Tus-Resumable"] == "1.0.0"


class TestCreation:
    def test_created_with_its_location_and_state(self, client, creator):
        reply = create(client, creator, length=1234)
        assert reply.status_code == 201
        assert reply.headers["Location"].startswith("http://localhost/uploads/")
        head = client.head(path_of(reply), headers=bearer(creator))
        assert head.status_code == 200
        assert head.headers["Upload-Offset"] == "0"
        assert head.headers["Upload-Length"] == "1234"
        assert head.headers["Cache-Control"] == "no-store"
        assert "GMT" in head.headers["Upload-Expires"]
        assert "Video-Id" not in head.headers

    def test_a_missing_title_is_the_forms_400(self, client, creator):
        headers = {**bearer(creator), "Upload-Length": "10", "Upload-Metadata": metadata()}
        body = assert_error(client.post("/uploads/", headers=headers), 400, "validation_error")
        assert body["error"] == "Title is required."
        assert "title" in body["details"]

    def test_a_paid_video_without_a_price_is_400(self, client, creator):
        body = assert_error(create(client, creator, access="paid"), 400, "price_required")
        assert "price" in body["details"]

    def test_the_forms_rules_apply_to_each_field(self, client, creator):
        assert_error(create(client, creator, visibility="everyone"), 400, "validation_error")
        assert_error(create(client, creator, title="x" * 201), 400, "validation_error")

    def test_metadata_that_is_not_base64_is_400(self, client, creator):
        headers = {**bearer(creator), "Upload-Length": "10", "Upload-Metadata": "title %%%"}
        assert_error(client.post("/uploads/", headers=headers), 400, "invalid_metadata")

    def test_upload_length_is_required_and_bounded(self, client, creator, app):
        headers = {**bearer(creator), "Upload-Metadata": metadata(title="t")}
        assert_error(client.post("/uploads/", headers=headers), 400, "validation_error")
        too_big = str(app.config["MAX_UPLOAD_MB"] * 1024 * 1024 + 1)
        reply = client.post("/uploads/", headers={**headers, "Upload-Length": too_big})
        assert_error(reply, 413, "upload_too_large")

    def test_a_viewer_is_refused_and_nothing_is_made(self, client, viewer, app):
        assert_error(create(client, viewer["token"]), 403, "insufficient_role")
        assert stored(app) == (0, 0, 0)

    def test_no_token_is_401(self, client):
        headers = {**TUS, "Upload-Length": "10", "Upload-Metadata": metadata(title="t")}
        assert_error(client.post("/uploads/", headers=headers), 401)


class TestPatch:
    def test_a_wrong_offset_is_409(self, client, creator):
        path = path_of(create(client, creator, length=100))
        assert patch(client, creator, path, 0, b"a" * 10).status_code == 204
        assert_error(patch(client, creator, path, 0, b"a" * 10), 409, "offset_mismatch")
        assert client.head(path, headers=bearer(creator)).headers["Upload-Offset"] == "10"

    def test_another_content_type_is_415(self, client, creator):
        path = path_of(create(client, creator, length=100))
        reply = patch(client, creator, path, 0, b"a", **{"Content-Type": "text/plain"})
        assert_error(reply, 415, "unsupported_media_type")

    def test_a_body_past_the_length_is_400_and_nothing_is_kept(self, client, creator):
        path = path_of(create(client, creator, length=10))
        assert_error(patch(client, creator, path, 0, b"a" * 11), 400, "exceeds_upload_length")
        assert client.head(path, headers=bearer(creator)).headers["Upload-Offset"] == "0"

    def test_another_checksum_algorithm_is_400(self, client, creator):
        path = path_of(create(client, creator, length=10))
        reply = patch(client, creator, path, 0, b"a", **{"Upload-Checksum": "md5 AAAA"})
        assert_error(reply, 400, "unsupported_checksum_algorithm")

    def test_someone_elses_upload_is_404(self, client, creator, accounts):
        path = path_of(create(client, creator, length=10))
        other = accounts.user_with_token("creator")["token"]
        assert_error(patch(client, other, path, 0, b"a"), 404, "upload_not_found")
        assert client.head(path, headers=bearer(other)).status_code == 404


class TestNotMedia:
    def test_a_finished_upload_that_is_not_media_is_422_and_leaves_nothing(
        self, client, creator, app, media
    ):
        data = media["text"].read_bytes()
        path = path_of(create(client, creator, length=len(data)))
        assert patch(client, creator, path, 0, data[:5000]).status_code == 204
        assert_error(patch(client, creator, path, 5000, data[5000:]), 422, "unsupported_media")
        assert stored(app) == (0, 0, 0)
        with app.app_context():
            assert get_db().videos.count_documents({}) == 0


class TestTermination:
    def test_delete_frees_everything(self, client, creator, app):
        path = path_of(create(client, creator, length=600_000))
        assert patch(client, creator, path, 0, b"a" * 300_000).status_code == 204
        assert stored(app)[:2] == (1, 2)
        reply = client.delete(path, headers=bearer(creator))
        assert reply.status_code == 204 and reply.headers["Tus-Resumable"] == "1.0.0"
        assert stored(app) == (0, 0, 0)
        assert client.head(path, headers=bearer(creator)).status_code == 404


class TestExpiry:
    def test_an_expired_upload_is_410_then_swept_without_a_trace(self, client, creator, app):
        path = path_of(create(client, creator, length=600_000))
        assert patch(client, creator, path, 0, b"a" * 300_000).status_code == 204
        with app.app_context():  # a day later
            get_db().tus_uploads.update_many({}, {"$set": {"expires_at": utcnow()}})
        assert client.head(path, headers=bearer(creator)).status_code == 410
        assert_error(patch(client, creator, path, 300_000, b"a"), 410, "upload_expired")
        app.extensions["media_jobs"].sweep()
        assert stored(app) == (0, 0, 0)
        assert client.head(path, headers=bearer(creator)).status_code == 404

    def test_the_expiry_is_upload_expiry_hours_after_creation(self, make_app):
        app = make_app(UPLOAD_EXPIRY_HOURS=3)
        from tests.support.accounts import Accounts

        client = app.test_client()
        token = Accounts(client, app).user_with_token("creator")["token"]
        before = utcnow()
        create(client, token)
        with app.app_context():
            (upload,) = get_db().tus_uploads.find()
        assert before + timedelta(hours=3) <= upload["expires_at"] <= utcnow() + timedelta(hours=3)

    def test_the_sweep_leaves_unexpired_uploads(self, client, creator, app):
        path = path_of(create(client, creator, length=600_000))
        assert patch(client, creator, path, 0, b"a" * 300_000).status_code == 204
        app.extensions["media_jobs"].sweep()
        assert stored(app)[:2] == (1, 2)


class TestTuspyRefusals:
    def test_a_viewer_with_tuspy_is_refused(self, tus_live, clip):
        client = tus_client.TusClient(
            tus_live.endpoint, headers={"Authorization": f"Bearer {tus_live.viewer}"}
        )
        with pytest.raises(TusCommunicationError) as refused:
            client.uploader(str(clip), metadata={"title": "Not mine to upload"}).upload()
        assert refused.value.status_code == 403
        assert tus_live.stored()["uploads"] == []

    def test_non_media_with_tuspy_is_422_and_nothing_remains(self, tus_live, media):
        client = tus_client.TusClient(
            tus_live.endpoint, headers={"Authorization": f"Bearer {tus_live.creator}"}
        )
        uploader = client.uploader(str(media["text"]), metadata={"title": "Text"}, chunk_size=4000)
        with pytest.raises(TusCommunicationError) as refused:
            uploader.upload()
        assert refused.value.status_code == 422
        state = tus_live.stored()
        assert state == {"uploads": [], "files": [], "chunks": [], "videos": []}
        reply = requests.head(uploader.url, headers=tus_live.headers())
        assert reply.status_code == 404


class TestAcrossProcesses:
    def test_the_sha256_is_read_back_when_another_process_took_bytes(
        self, client, creator, app, multi_chunk_mp4, monkeypatch
    ):
        """A process keeps the running sha256 of what it stored; when another one took some
        PATCHes (here: a fresh memory, as that process would have), the final PATCH reads
        the file back from GridFS to hash it, and still gets it right."""
        import hashlib

        from services.media import tus_body

        data = multi_chunk_mp4.read_bytes()
        path = path_of(create(client, creator, length=len(data)))
        assert patch(client, creator, path, 0, data[:400_000]).status_code == 204
        monkeypatch.setattr(tus_body, "digests", tus_body._Digests())  # another process
        reply = patch(client, creator, path, 400_000, data[400_000:])
        assert reply.status_code == 204, reply.get_data(as_text=True)
        with app.app_context():
            (video,) = get_db().videos.find()
        assert reply.headers["Video-Id"] == str(video["_id"])
        assert video["source_sha256"] == hashlib.sha256(data).hexdigest()
        assert video["source_size"] == len(data)


class TestStoredProbe:
    def test_a_stored_file_is_probed_as_the_same_file_on_disk(self, app, media):
        """The finished upload's probe reads GridFS through the child's socket: it must see
        what the probe of the same bytes on disk sees (MP4 with its atoms, WebM, MP3)."""
        from models import media_file
        from services.media.sandbox import probe_upload
        from services.media.stored_probe import probe_stored

        with app.app_context():
            for kind in ("h264", "moov_end", "vp9", "mp3"):
                file_id, size, _ = media_file.store(media[kind], kind, "application/octet-stream")
                assert probe_stored(file_id, size, app.config)[0] == probe_upload(
                    media[kind], app.config
                ), kind

    def test_the_probe_hashes_the_file_as_it_reads_it(self, app, media, clip):
        """Without a digest kept from the PATCHes, the sha256 comes from the probe's reads
        plus what it never read: right whatever order the demuxer read in (moov at the end,
        WebM, MP3, 5 MB read in blocks), and None when not asked for."""
        from models import media_file
        from services.media.stored_probe import probe_stored

        with app.app_context():
            for path in (*(media[kind] for kind in ("h264", "moov_end", "vp9", "mp3")), clip):
                file_id, size, sha256 = media_file.store(path, path.name, "audio/mpeg")
                assert probe_stored(file_id, size, app.config, with_sha256=True)[1] == sha256
                assert probe_stored(file_id, size, app.config)[1] is None

    def test_the_blocks_the_probe_reads_in_order_are_read_ahead(self, app, clip, monkeypatch):
        """While the child works on one block, the next comes from the database on the
        read-ahead thread, and it is that block the child asks for next."""
        from models import media_file, tus_chunks
        from services.media import stored_probe

        reads, read = [], tus_chunks.read

        def counted(file_id, start, size, length):
            reads.append((threading.current_thread().name, start, size))
            return read(file_id, start, size, length)

        monkeypatch.setattr(tus_chunks, "read", counted)
        with app.app_context():
            file_id, size, _ = media_file.store(clip, "clip", "video/mp4")
            stored_probe.probe_stored(file_id, size, app.config)
        ahead = [read for read in reads if read[0].startswith("probe-read-ahead")]
        assert len(ahead) >= 2, reads
        assert len(ahead) > len(reads) - len(ahead), reads  # most reads were ahead of time
