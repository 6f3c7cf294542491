"""Resumable uploads with real tus clients (docs/uploads.md): the app on a socket, on each
backend, and what a test needs around it.

``tus_live``: the app (werkzeug's threaded server), a creator's and a viewer's access tokens,
and ``stored()`` (what the database holds of uploads: documents, GridFS chunks and files);
``clip``: a real H.264 MP4 of a few MB; ``cutter``: a proxy in front of the app that cuts a
connection after a chosen number of bytes. ``tus_live.held_patch``: an upload a PATCH holds,
mid-body, for what another request meets meanwhile.
"""

import contextlib
from dataclasses import dataclass

import pytest

from demo import synthetic_media
from models.db import get_db
from tests.support.accounts import Accounts
from tests.support.cutting_proxy import CuttingProxy
from tests.support.live_server import LiveServer
from tests.support.tus_clients import HeldPatch, uploader
from tests.support.uploads import eventually


@dataclass
class TusLive:
    app: object
    server: LiveServer
    creator: str
    viewer: str

    @property
    def endpoint(self):
        return self.server.url("/uploads/")

    def auth(self, token=None):
        return {"Authorization": f"Bearer {token or self.creator}"}

    def headers(self, token=None, **extra):
        return {**self.auth(token), "Tus-Resumable": "1.0.0", **extra}

    def upload(self):
        """The one upload document of the test."""
        (upload,) = self.stored()["uploads"]
        return upload

    @contextlib.contextmanager
    def held_patch(self, clip, body, sent):
        """A new upload of ``clip`` and a PATCH of ``body`` at offset 0, its first ``sent``
        bytes sent and the upload's lease taken: yields (the upload's URL, the HeldPatch)."""
        url = uploader(self.endpoint, self.creator, clip).create_url()
        path = url.split(self.server.base_url, 1)[1]
        with HeldPatch(self.server.port, path, self.headers(), body) as held:
            held.send(body[:sent])
            assert eventually(lambda: self.upload()["lease_token"] is not None)
            yield url, held

    def stored(self):
        """What the database holds of uploads: tus documents, GridFS files and chunks, videos."""
        with self.app.app_context():
            database = get_db()
            return {
                "uploads": list(database.tus_uploads.find()),
                "files": list(database.fs.files.find()),
                "chunks": list(database.fs.chunks.find({}, {"files_id": 1, "n": 1, "data": 1})),
                "videos": list(database.videos.find()),
            }


@pytest.fixture
def tus_live(make_app):
    app = make_app()
    accounts = Accounts(app.test_client(), app)
    creator = accounts.user_with_token("creator")["token"]
    viewer = accounts.user_with_token("viewer")["token"]
    server = LiveServer(app).start()
    yield TusLive(app, server, creator, viewer)
    server.stop()


@pytest.fixture(scope="session")
def clip(tmp_path_factory):
    """A real H.264 MP4 of about 5 MB: twenty GridFS chunks, more than one batch of them."""
    path = tmp_path_factory.mktemp("tus") / "clip.mp4"
    return synthetic_media.write_noise_video(path, 5, width=320, height=240)


@pytest.fixture
def cutter(tus_live):
    proxy = CuttingProxy(tus_live.server.port)
    yield proxy
    proxy.close()
