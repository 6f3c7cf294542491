"""POST /video/upload through processing, on both database backends (docs/videos.md#upload)."""

import av
import pytest

from models.db import get_db
from services.media.probe import top_level_atoms
from tests.support.errors import assert_error
from tests.support.uploads import (
    eventually,
    gridfs_counts,
    ladder_file_ids,
    stored_media,
    upload,
    wait_until_processed,
)


@pytest.fixture
def creator(accounts):
    return accounts.bearer(accounts.user_with_token("creator"))


def codecs_of(path):
    with av.open(str(path)) as container:
        video = container.streams.video[0].codec_context if container.streams.video else None
        audio = container.streams.audio[0].codec_context if container.streams.audio else None
        return (
            video.name if video else None,
            video.pix_fmt if video else None,
            audio.name if audio else None,
        )


def test_h264_mp4_is_stored_as_is(client, app, creator, media, tmp_path):
    response = upload(client, creator, media["h264"], description="hello", tags="a, b")
    assert response.status_code == 202
    assert response.json["video"]["status"] == "processing"
    video = wait_until_processed(client, creator, response.json["video"]["id"])
    assert video["status"] == "ready"
    assert (video["video_codec"], video["audio_codec"], video["mime_type"]) == (
        "h264",
        "aac",
        "video/mp4",
    )
    assert (video["width"], video["height"]) == (320, 240)
    assert video["duration"] == pytest.approx(2.0, abs=0.1)
    assert video["tags"] == ["a", "b"]
    document, stored = stored_media(app, video["id"], tmp_path)
    assert stored.read_bytes() == media["h264"].read_bytes()
    assert document["rendition"] == "as_is"
    import hashlib

    assert document["sha256"] == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert document["thumbnail_file_id"] is not None


def test_moov_at_end_is_remuxed(client, app, creator, media, tmp_path):
    video_id = upload(client, creator, media["moov_end"]).json["video"]["id"]
    assert wait_until_processed(client, creator, video_id)["status"] == "ready"
    document, stored = stored_media(app, video_id, tmp_path)
    assert document["rendition"] == "remux"
    atoms = top_level_atoms(stored)
    assert atoms.index("moov") < atoms.index("mdat")
    # The source copy goes once the video is ready (just after the ready write, in the job's
    # thread): then only media + thumbnail remain, and the HLS ladder's segments.
    with app.app_context():
        segments = len(ladder_file_ids(get_db(), get_db().videos.find_one(document["_id"])))
    assert segments > 0
    assert eventually(lambda: gridfs_counts(app)[0] == 2 + segments)


@pytest.mark.parametrize("name", ["mp4v", "vp9"])
def test_other_codecs_are_transcoded_to_h264(client, app, creator, media, tmp_path, name):
    video_id = upload(client, creator, media[name]).json["video"]["id"]
    video = wait_until_processed(client, creator, video_id)
    assert video["status"] == "ready", video
    document, stored = stored_media(app, video_id, tmp_path)
    assert document["rendition"] == "transcode"
    video_codec, pixel_format, audio_codec = codecs_of(stored)
    assert (video_codec, pixel_format) == ("h264", "yuv420p")
    assert audio_codec == ("aac" if name == "vp9" else None)
    atoms = top_level_atoms(stored)
    assert atoms.index("moov") < atoms.index("mdat")


def test_mp3_is_audio_without_thumbnail(client, app, creator, media, tmp_path):
    video_id = upload(client, creator, media["mp3"]).json["video"]["id"]
    video = wait_until_processed(client, creator, video_id)
    assert (video["status"], video["kind"], video["mime_type"]) == ("ready", "audio", "audio/mpeg")
    document, stored = stored_media(app, video_id, tmp_path)
    assert document["thumbnail_file_id"] is None
    assert stored.read_bytes() == media["mp3"].read_bytes()


def test_text_renamed_mp4_is_422_and_leaves_nothing(client, app, creator, media):
    body = assert_error(upload(client, creator, media["text"]), 422, "unsupported_media")
    assert "/tmp" not in str(body)
    assert gridfs_counts(app) == (0, 0)
    with app.app_context():
        assert get_db().videos.count_documents({}) == 0


def test_over_the_limit_is_413_and_leaves_nothing(make_app, accounts, media, tmp_path):
    app = make_app(MAX_UPLOAD_MB=1)
    client = app.test_client()
    big = tmp_path / "big.mp4"
    big.write_bytes(media["h264"].read_bytes() * 80)  # ~3 MB
    creator = accounts.bearer(accounts.user_with_token("creator"))
    assert_error(upload(client, creator, big), 413)
    assert gridfs_counts(app) == (0, 0)


def test_viewer_cannot_upload(client, accounts, media):
    viewer = accounts.bearer(accounts.user_with_token("viewer"))
    assert_error(upload(client, viewer, media["h264"]), 403)


def test_anonymous_cannot_upload(client, media):
    assert_error(upload(client, {}, media["h264"]), 401)


@pytest.mark.parametrize(
    "fields",
    [{"title": ""}, {"title": "t" * 201}, {"visibility": "secret"}, {"description": "d" * 5001}],
)
def test_bad_fields_are_400_and_store_nothing(client, app, creator, media, fields):
    assert_error(upload(client, creator, media["h264"], **fields), 400)
    assert gridfs_counts(app) == (0, 0)


def test_missing_file_is_400(client, creator):
    response = client.post(
        "/video/upload",
        headers=creator,
        content_type="multipart/form-data",
        data={"title": "no file"},
    )
    assert_error(response, 400)
    assert response.get_json()["details"] == {"file": ["Missing data for required field."]}


def test_file_sent_as_a_text_field_is_400(client, app, creator):
    response = client.post(
        "/video/upload",
        headers=creator,
        content_type="multipart/form-data",
        data={"title": "text, not a file", "file": "AAAA"},
    )
    assert_error(response, 400)
    assert "file" in response.get_json()["details"]
    assert gridfs_counts(app) == (0, 0)


def test_unknown_form_field_is_400(client, app, creator, media):
    assert_error(upload(client, creator, media["h264"], colour="blue"), 400)
    assert gridfs_counts(app) == (0, 0)


def test_a_form_field_without_a_name_is_400_not_500(client, creator):
    """Found by schemathesis: the error's details had a None key, and writing them crashed."""
    body = (
        b"--XX\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n"
        b'--XX\r\nContent-Disposition: form-data; name="title"\r\n\r\nt\r\n--XX--\r\n'
    )
    response = client.post(
        "/video/upload",
        data=body,
        headers={**creator, "Content-Type": "multipart/form-data; boundary=XX"},
    )
    assert assert_error(response, 400)["details"]["None"] == ["Unknown field."]
