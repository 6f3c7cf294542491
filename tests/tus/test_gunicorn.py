"""Resumable uploads through the production command, gunicorn with two worker processes, on
the embedded database (docs/uploads.md): the PATCHes of one upload land on either process,
gunicorn reads the bodies (a cut one ends early rather than raising, as werkzeug's server
does), and the lease and the offset live in MongoDB only."""

import hashlib
import os
import random
import sys
from contextlib import suppress
from pathlib import Path

import pytest
import requests
from pymongo import MongoClient
from tusclient.exceptions import TusCommunicationError

from devtools.gunicorn_process import GunicornProcess
from tests.support.cutting_proxy import CuttingProxy
from tests.support.tools import require_tool
from tests.support.tus_clients import stored_prefix, uploader
from tests.support.uploads import eventually

pytestmark = [pytest.mark.slow, pytest.mark.embedded]
CUTS = 6


@pytest.fixture
def gunicorn(embedded_database, tmp_path):
    require_tool(Path(sys.executable).with_name("gunicorn").exists(), "gunicorn (make install)")
    env = {
        **os.environ,
        "APP_ENV": "development",
        "MONGODB_URI": embedded_database,
        "RATELIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "PROCESSING_WORKERS": "0",  # the upload is the point, not its processing
    }
    server = GunicornProcess(env, tmp_path / "gunicorn.log", workers=2).start()
    try:
        server.wait_until_healthy()
        yield server
    finally:
        server.stop()


def creator_token(base_url):
    account = {"name": "Tus", "email": "tus@example.com", "password": "correct horse battery"}
    assert requests.post(f"{base_url}/auth/signup", json={**account, "role": "creator"}).ok
    login = {key: account[key] for key in ("email", "password")}
    return requests.post(f"{base_url}/auth/login", json=login).json()["token"]


def test_cut_uploads_resume_across_gunicorn_workers(gunicorn, embedded_database, clip):
    data = clip.read_bytes()
    token = creator_token(gunicorn.base_url)
    cutter = CuttingProxy(gunicorn.port)
    endpoint = cutter.url("/uploads/")
    first = uploader(endpoint, token, clip)
    first.set_url(first.create_url())
    chance = random.Random(2018)
    offsets = []
    with MongoClient(embedded_database) as client:
        database = client.get_default_database()
        while cutter.cuts < CUTS:
            resumed = uploader(endpoint, token, clip, url=first.url)
            cutter.arm(chance.randint(1, len(data) - resumed.offset))
            with suppress(TusCommunicationError):
                resumed.upload()
            assert eventually(cutter.idle)
            (upload,) = database.tus_uploads.find()
            offsets.append(upload["offset"])
            state = {"chunks": list(database.fs.chunks.find())}
            assert stored_prefix(state, upload) == data[: upload["offset"]]
        uploader(endpoint, token, clip, url=first.url).upload()
        head = requests.head(
            first.url, headers={"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
        )
        (video,) = database.videos.find()
    cutter.close()
    assert len(set(offsets)) > CUTS // 2, offsets  # a cut PATCH keeps what arrived
    assert head.headers["Video-Id"] == str(video["_id"])
    assert video["source_sha256"] == hashlib.sha256(data).hexdigest()
