"""Resumable uploads with tus-js-client, the tus project's JavaScript client, under Node
(docs/uploads.md). It comes from npm into .tools/tusjs (``make tools``); missing, the test
skips on a laptop and fails in CI."""

import hashlib
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.tools import require_tool
from tests.support.tus_clients import stored_prefix
from tests.support.uploads import eventually

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / ".tools/tusjs/node_modules"
SCRIPT = Path(__file__).with_name("tus_js_upload.js")
CUTS = 8


@pytest.fixture
def node():
    require_tool(shutil.which("node"), "node (Node.js)")
    require_tool((MODULES / "tus-js-client/package.json").exists(), "tus-js-client (make tools)")


def run_tus_js(endpoint, token, path, chunk_size, upload_url=""):
    finished = subprocess.run(
        ["node", str(SCRIPT), endpoint, token, str(path), str(chunk_size), upload_url],
        capture_output=True,
        text=True,
        timeout=120,
        env={"NODE_PATH": str(MODULES), "PATH": "/usr/bin:/bin:/usr/local/bin"},
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    return json.loads(finished.stdout.strip().splitlines()[-1])


def test_cut_at_random_offsets_it_resumes_and_ends_byte_identical(node, tus_live, cutter, clip):
    data = clip.read_bytes()
    chance = random.Random(1018)
    # Less in all than the file: every cut happens before the upload can end.
    cutter.arm(*(chance.randint(1, len(data) // (CUTS + 1)) for _ in range(CUTS)))
    result = run_tus_js(cutter.url("/uploads/"), tus_live.creator, clip, 2 * 1024 * 1024)
    assert result["status"] == "done", result
    assert cutter.cuts == CUTS
    assert eventually(cutter.idle)
    state = tus_live.stored()
    (video,) = state["videos"]
    assert video["source_sha256"] == hashlib.sha256(data).hexdigest()
    assert stored_prefix(state, tus_live.upload()) == data
    assert video["title"] == "Sent by tus-js-client"


def test_a_second_client_patching_the_same_upload_gets_409(node, tus_live, clip):
    data = clip.read_bytes()
    with tus_live.held_patch(clip, data, len(data) // 3) as (url, held):
        result = run_tus_js(tus_live.endpoint, tus_live.creator, clip, len(data), url)
        assert result == {**result, "status": "error", "code": 409}
        held.send(data[len(data) // 3 :])
        assert held.status() == 204
    assert tus_live.upload()["offset"] == len(data)
