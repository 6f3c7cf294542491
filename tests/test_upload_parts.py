"""An upload spools exactly one file part, and every spooled file is closed when the request ends.

Each spooled part is an open temporary file (a descriptor) until it is closed. A form
of 999 file parts once took 999 descriptors per request, held for as long as its
client stalled. The spool folder is this test's own (``tempfile.tempdir``), and the
garbage collector is off during each request, so a file that only a collection of
an exception's traceback would close counts as left open.
"""

import gc
import os
import tempfile

import pytest

from tests.support.errors import assert_error
from tests.support.uploads import gridfs_counts, upload

BOUNDARY = "XX"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture
def creator(accounts):
    return accounts.bearer(accounts.user_with_token("creator"))


@pytest.fixture
def spool_dir(tmp_path, monkeypatch):
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def open_spool_files():
    """This process's descriptors open on an upload's spool file."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the descriptor os.listdir itself used, closed since
            continue
        if os.path.basename(target).startswith("upload-"):
            found.append(target)
    return found


def without_gc(send, *args, **kwargs):
    """The request, with nothing collected while it runs: what it leaves open stays open."""
    gc.disable()
    try:
        return send(*args, **kwargs)
    finally:
        gc.enable()


def post_without_gc(client, headers, **request):
    return without_gc(client.post, "/video/upload", headers=headers, **request)


def assert_nothing_left_spooled(spool_dir):
    assert open_spool_files() == []
    # A spool file is deleted when it is closed. (Processing works in a folder of its own
    # there too, for as long as it runs.)
    assert [path for path in spool_dir.iterdir() if path.name.startswith("upload-")] == []


def file_part(number, data=b"abc"):
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="clip-{number}.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
        ).encode()
        + data
        + b"\r\n"
    )


def text_part(name, value):
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
    ).encode()


END = f"--{BOUNDARY}--\r\n".encode()


def test_999_file_parts_are_refused_with_400_and_leave_nothing_open(
    client, app, creator, spool_dir
):
    body = text_part("title", "many files") + b"".join(file_part(n) for n in range(999)) + END
    response = post_without_gc(client, {**creator, "Content-Type": MULTIPART}, data=body)
    assert_error(response, 400, "too_many_files")
    assert_nothing_left_spooled(spool_dir)
    assert gridfs_counts(app) == (0, 0)


def test_a_form_of_more_parts_than_an_upload_has_is_413(client, creator, spool_dir):
    body = b"".join(text_part(f"field{n}", "x") for n in range(21)) + file_part(1) + END
    response = post_without_gc(client, {**creator, "Content-Type": MULTIPART}, data=body)
    assert_error(response, 413, "request_entity_too_large")
    assert_nothing_left_spooled(spool_dir)


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"this is not multipart at all", MULTIPART),
        (text_part("title", "no boundary") + END, "multipart/form-data"),
        (text_part("title", "a boundary not in the body") + END, "multipart/form-data; boundary=Z"),
        (b"--XX\r\nContent-Type: text/plain\r\n\r\nno disposition\r\n" + END, MULTIPART),
        (text_part("title", "cut off in the file") + file_part(1)[:-2], MULTIPART),
        (file_part(1) + b"--XX\r\nContent-Disposition: form-data; name=", MULTIPART),
    ],
    ids=["garbage", "no-boundary", "wrong-boundary", "no-disposition", "truncated", "cut-header"],
)
def test_a_malformed_form_is_400_json_and_leaves_nothing_open(
    client, creator, spool_dir, body, content_type
):
    response = post_without_gc(client, {**creator, "Content-Type": content_type}, data=body)
    assert_error(response, 400, "malformed_form")
    assert_nothing_left_spooled(spool_dir)


@pytest.mark.parametrize(
    "name, fields, status",
    [
        ("h264", {}, 202),
        ("h264", {"title": ""}, 400),
        ("h264", {"colour": "blue"}, 400),
        ("text", {}, 422),
    ],
    ids=["accepted", "invalid-field", "unknown-field", "not-media"],
)
def test_every_answer_closes_the_spooled_file(
    client, creator, media, spool_dir, name, fields, status
):
    response = without_gc(upload, client, creator, media[name], **fields)
    assert response.status_code == status, response.get_data(as_text=True)
    assert_nothing_left_spooled(spool_dir)


def test_over_the_limit_closes_the_spooled_file(make_app, accounts, media, spool_dir, tmp_path):
    app = make_app(MAX_UPLOAD_MB=1)
    client = app.test_client()
    big = tmp_path / "big.mp4"
    big.write_bytes(media["h264"].read_bytes() * 80)  # ~3 MB
    creator = accounts.bearer(accounts.user_with_token("creator"))
    assert_error(without_gc(upload, client, creator, big), 413)
    assert_nothing_left_spooled(spool_dir)
