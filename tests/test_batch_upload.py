"""POST /videos/batch: several files, each accepted or refused on its own
(docs/courses.md#batch-upload)."""

import io
import json
import tempfile

import pytest

from models.db import get_db
from services.media import batch
from tests.support.accounts import Accounts
from tests.support.errors import assert_error
from tests.support.uploads import eventually, gridfs_counts, ladder_file_ids, wait_until_processed
from tests.test_upload_parts import assert_nothing_left_spooled


def send(client, headers, files, titles, **fields):
    """``files``: (bytes, name) pairs, sent as ``file`` parts in order."""
    data = {
        **fields,
        "titles": titles if isinstance(titles, str) else json.dumps(titles),
        "file": [(io.BytesIO(content), name) for content, name in files],
    }
    return client.post(
        "/videos/batch", headers=headers, content_type="multipart/form-data", data=data
    )


@pytest.fixture
def spool_dir(tmp_path, monkeypatch):
    """As in tests/test_upload_parts.py: this test's own spool folder."""
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def small_app(make_app):
    return make_app(MAX_UPLOAD_MB=1, MAX_BATCH_FILES=3)


@pytest.fixture
def creator_of():
    def make(app):
        accounts = Accounts(app.test_client(), app)
        return accounts.bearer(accounts.user_with_token("creator"))

    return make


def test_each_file_is_accepted_or_refused_on_its_own(
    small_app,
    creator_of,
    media,
    spool_dir,
    monkeypatch,
):
    client, headers = small_app.test_client(), creator_of(small_app)
    good = media["h264"].read_bytes()
    big = good * 80  # ~3 MB, over MAX_UPLOAD_MB=1
    on_disk = []
    real_accept = batch.uploads.accept

    def accept(owner, path, filename, fields):
        on_disk.append(path.stat().st_size)
        return real_accept(owner, path, filename, fields)

    monkeypatch.setattr(batch.uploads, "accept", accept)
    response = send(
        client,
        headers,
        [(good, "one.mp4"), (media["text"].read_bytes(), "two.mp4"), (big, "three.mp4")],
        ["First", "Not media", "Too big"],
        category="lessons",
    )
    assert response.status_code == 207, response.json
    first, second, third = response.json["results"]
    assert first["status"] == 202 and first["video"]["title"] == "First"
    assert first["video"]["category"] == "lessons" and first["video"]["status"] == "processing"
    assert second["status"] == 422 and second["code"] == "unsupported_media"
    assert second["error"] and "file" in second["details"]
    assert third["status"] == 413 and third["code"] == "upload_too_large" and third["error"]
    # The big file was not all written to disk: one byte over the limit says it is too big.
    assert on_disk == [len(good), media["text"].stat().st_size, 1024 * 1024 + 1]
    video = wait_until_processed(client, headers, first["video"]["id"])
    assert video["status"] == "ready"
    with small_app.app_context():
        database = get_db()
        assert [doc["title"] for doc in database.videos.find()] == ["First"]
        stored = database.videos.find_one()
        kept = {stored["media_file_id"], stored["thumbnail_file_id"]}
        kept |= ladder_file_ids(database, stored)  # its HLS segments

        def only_the_accepted_files():
            return {doc["_id"] for doc in database.fs.files.find()} == kept

        assert eventually(only_the_accepted_files)
    assert_nothing_left_spooled(spool_dir)


def test_more_files_than_allowed_is_400_and_stores_nothing(
    small_app,
    creator_of,
    spool_dir,
):
    client, headers = small_app.test_client(), creator_of(small_app)
    files = [(b"x" * 100, f"{n}.mp4") for n in range(4)]
    response = send(client, headers, files, ["a", "b", "c", "d"])
    body = assert_error(response, 400, "too_many_files")
    assert "3" in body["error"]
    assert gridfs_counts(small_app) == (0, 0)
    assert_nothing_left_spooled(spool_dir)


def test_the_whole_body_is_bounded(small_app, creator_of, media):
    """MAX_BATCH_FILES x MAX_UPLOAD_MB MiB (+ 1 MiB for the form) at most: 3 + 1 here."""
    client, headers = small_app.test_client(), creator_of(small_app)
    big = media["h264"].read_bytes() * 80
    response = send(client, headers, [(big, "a.mp4"), (big, "b.mp4")], ["a", "b"])
    assert_error(response, 413)
    assert gridfs_counts(small_app) == (0, 0)


@pytest.mark.parametrize(
    "titles",
    [["only one"], ["a", "b", "c"], "not json", '{"a": 1}', '["ok", 5]', '["", "b"]'],
    ids=["fewer", "more", "not-json", "object", "not-string", "empty-title"],
)
def test_titles_must_be_one_valid_title_per_file(client, accounts, media, titles):
    headers = accounts.bearer(accounts.user_with_token("creator"))
    good = media["h264"].read_bytes()
    response = send(client, headers, [(good, "a.mp4"), (good, "b.mp4")], titles)
    body = assert_error(response, 400)
    if isinstance(titles, list):
        assert body["code"] == "titles_mismatch"
    assert gridfs_counts(client.application) == (0, 0)


def test_a_viewer_may_not_batch_upload(client, accounts, media):
    headers = accounts.bearer(accounts.user_with_token("viewer"))
    response = send(client, headers, [(media["h264"].read_bytes(), "a.mp4")], ["a"])
    assert_error(response, 403, "insufficient_role")


def test_no_file_and_unknown_fields_are_400(client, accounts):
    headers = accounts.bearer(accounts.user_with_token("creator"))
    assert_error(send(client, headers, [], []), 400)
    assert_error(send(client, headers, [(b"x", "a.mp4")], ["a"], colour="blue"), 400)


def test_the_single_upload_still_takes_one_file(client, accounts, media, spool_dir):
    headers = accounts.bearer(accounts.user_with_token("creator"))
    good = media["h264"].read_bytes()
    response = client.post(
        "/video/upload",
        headers=headers,
        content_type="multipart/form-data",
        data={"title": "two", "file": [(io.BytesIO(good), "a.mp4"), (io.BytesIO(good), "b.mp4")]},
    )
    body = assert_error(response, 400, "too_many_files")
    assert body["error"] == "Send one file per upload: the form has more than one file part."
    assert gridfs_counts(client.application) == (0, 0)
    assert_nothing_left_spooled(spool_dir)
