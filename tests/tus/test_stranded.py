"""A finish cut short: the process that stored an upload's last byte died before the video
was made. Its client got no Video-Id and HEAD says the upload is complete; the media sweep
finishes it as the last PATCH would have (docs/uploads.md#the-last-patch)."""

import hashlib

from bson import ObjectId

from models.db import get_db
from services.media import resumable
from tests.tus.test_protocol import bearer, create, patch, path_of


def test_a_finish_cut_short_is_completed_by_the_sweep(client, accounts, app, media, monkeypatch):
    creator = accounts.user_with_token("creator")["token"]
    data = media["h264"].read_bytes()
    path = path_of(create(client, creator, length=len(data), title="Stranded"))

    def killed(*args, **kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(resumable, "accept_stored", killed)
    assert patch(client, creator, path, 0, data).status_code == 500
    monkeypatch.undo()
    head = client.head(path, headers=bearer(creator))
    assert head.headers["Upload-Offset"] == str(len(data)) and "Video-Id" not in head.headers

    app.extensions["media_jobs"].sweep()

    head = client.head(path, headers=bearer(creator))
    video_id = head.headers["Video-Id"]
    with app.app_context():
        video = get_db().videos.find_one({"_id": ObjectId(video_id)})
        assert get_db().videos.count_documents({"title": "Stranded"}) == 1
    assert video["title"] == "Stranded"
    assert video["source_sha256"] == hashlib.sha256(data).hexdigest()


def test_a_stranded_upload_that_is_not_media_leaves_nothing(client, accounts, app, monkeypatch):
    creator = accounts.user_with_token("creator")["token"]
    data = b"not a video at all " * 20_000
    path = path_of(create(client, creator, length=len(data), title="Junk"))
    monkeypatch.setattr(resumable, "accept_stored", lambda *a, **k: 1 / 0)
    assert patch(client, creator, path, 0, data).status_code == 500
    monkeypatch.undo()
    app.extensions["media_jobs"].sweep()
    assert client.head(path, headers=bearer(creator)).status_code == 404
    with app.app_context():
        database = get_db()
        assert database.tus_uploads.count_documents({}) == 0
        assert database.fs.chunks.count_documents({}) == 0
        assert database.videos.count_documents({"title": "Junk"}) == 0
