"""Resumable uploads with tuspy, the tus project's Python client, against a real socket
(docs/uploads.md): cut at random offsets and resumed, byte-identical at the end."""

import base64
import contextlib
import hashlib
import random

import requests
from tusclient.exceptions import TusCommunicationError, TusUploadFailed

from models.media_file import CHUNK_SIZE
from tests.support.tus_clients import stored_prefix, uploader
from tests.support.uploads import eventually

CUTS = 8


class TestCutAndResumed:
    def test_uploads_cut_at_random_offsets_resume_and_end_byte_identical(
        self, tus_live, cutter, clip
    ):
        data = clip.read_bytes()
        endpoint = cutter.url("/uploads/")
        first = uploader(endpoint, tus_live.creator, clip)
        first.set_url(first.create_url())
        chance = random.Random(18)
        offsets = []
        while cutter.cuts < CUTS:
            # A new client each time, resuming from HEAD's offset (tuspy's own retries would
            # do the same, through the proxy once disarmed: no second cut).
            resumed = uploader(endpoint, tus_live.creator, clip, url=first.url)
            # At most the bytes left: with the headers, the request is always cut short.
            cutter.arm(chance.randint(1, len(data) - resumed.offset))
            with contextlib.suppress(TusCommunicationError):
                resumed.upload()
            assert eventually(cutter.idle)  # the server is done with the cut PATCH
            upload = tus_live.upload()
            offsets.append(upload["offset"])
            if upload["video_id"] is None:  # never a chunk past the offset, nor one short
                assert stored_prefix(tus_live.stored(), upload) == data[: upload["offset"]]
        uploader(endpoint, tus_live.creator, clip, url=first.url).upload()
        assert len(set(offsets)) > CUTS // 2, offsets  # the cuts fell in different places
        assert any(offset % CHUNK_SIZE for offset in offsets)  # mid-chunk too
        head = requests.head(first.url, headers=tus_live.headers())
        assert head.status_code == 200 and int(head.headers["Upload-Offset"]) == len(data)
        state = tus_live.stored()
        (video,) = state["videos"]
        assert head.headers["Video-Id"] == str(video["_id"])
        assert video["source_sha256"] == hashlib.sha256(data).hexdigest()
        assert stored_prefix(state, tus_live.upload()) == data
        assert video["title"] == "Cut and resumed" and video["original_filename"] == clip.name


class TestTwoClients:
    def test_one_patch_wins_the_other_is_409(self, tus_live, clip):
        data = clip.read_bytes()
        # The first PATCH holds the upload, mid-body.
        with tus_live.held_patch(clip, data, len(data) // 2) as (url, held):
            second = uploader(tus_live.endpoint, tus_live.creator, clip, url=url)
            try:
                second.upload()
                raise AssertionError("the second PATCH was accepted")
            except TusUploadFailed as refused:
                assert refused.status_code == 409
            held.send(data[len(data) // 2 :])
            assert held.status() == 204
        assert tus_live.upload()["offset"] == len(data)

    def test_a_delete_while_a_patch_streams_is_409_and_nothing_outlives_the_upload(
        self, tus_live, clip
    ):
        data = clip.read_bytes()
        body = data[:-1]  # all but the last byte: the upload stays unfinished
        with tus_live.held_patch(clip, body, len(body) // 2) as (url, held):
            refused = requests.delete(url, headers=tus_live.headers())
            assert refused.status_code == 409 and refused.json()["code"] == "upload_busy"
            held.send(body[len(body) // 2 :])
            assert held.status() == 204
        assert requests.delete(url, headers=tus_live.headers()).status_code == 204
        state = tus_live.stored()
        assert (state["uploads"], state["chunks"], state["files"]) == ([], [], [])


class TestChecksum:
    def test_tuspy_with_checksums_completes(self, tus_live, clip):
        data = clip.read_bytes()
        client = uploader(
            tus_live.endpoint, tus_live.creator, clip, upload_checksum=True, chunk_size=1_000_000
        )
        client.upload()
        (video,) = tus_live.stored()["videos"]
        assert video["source_sha256"] == hashlib.sha256(data).hexdigest()

    def test_a_mismatch_is_460_and_its_bytes_are_dropped(self, tus_live, clip):
        data = clip.read_bytes()
        first = uploader(tus_live.endpoint, tus_live.creator, clip, chunk_size=300_000)
        first.upload(stop_at=300_000)  # a partial chunk stands at the offset
        body = data[300_000:900_000]
        wrong = hashlib.sha1(body + b"x").digest()

        reply = requests.patch(
            first.url,
            data=body,
            headers=tus_live.headers(
                **{
                    "Upload-Offset": "300000",
                    "Content-Type": "application/offset+octet-stream",
                    "Upload-Checksum": "sha1 " + base64.b64encode(wrong).decode(),
                }
            ),
        )
        assert reply.status_code == 460
        assert reply.json()["code"] == "checksum_mismatch"
        assert reply.headers["Tus-Resumable"] == "1.0.0"
        upload = tus_live.upload()
        assert upload["offset"] == 300_000
        assert stored_prefix(tus_live.stored(), upload) == data[:300_000]
