"""Clients that hang up or stall mid-upload or mid-stream, on the servers of conftest.py."""

import time
import uuid

import pytest

from tests.support.faults import (
    MIB,
    SOON,
    MultipartBody,
    RawExchange,
    assert_prefix_of,
    media_path,
    open_stream,
    request_within,
    settled_thread_count,
    thread_count,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.embedded]

FORM_READ_BYTES = 64 * 1024  # werkzeug's multipart parser reads the body in blocks of this


@pytest.mark.parametrize("hang_up", ["reset", "close"])
def test_upload_cut_off_halfway_leaves_no_file_no_video_no_temp_file(servers, hang_up):
    """``reset``: a crashed client (TCP RST); ``close``: one that gives up (FIN)."""
    wait_until(lambda: not servers.temp_files(), SOON, message="server temp dir empty at start")
    before = servers.counts()
    file_size = 24 * MIB
    body = MultipartBody(file_size)
    exchange = RawExchange(servers.port)
    try:
        exchange.send_head(
            "POST",
            "/video/upload",
            {
                "Authorization": f"Bearer {servers.creator}",
                "Content-Type": body.content_type,
            },
            content_length=body.length,
        )
        exchange.send(body.head)
        exchange.send(b"\0" * (file_size // 2))
        # The server is spooling the body: its temp file is there (else this test proves nothing).
        spooled = wait_until(servers.temp_files, SOON, message="the upload's temp file")
        assert all(name.startswith("upload-") for name in spooled), spooled
    finally:
        if hang_up == "reset":
            exchange.reset()
        else:
            exchange.close()

    wait_until(lambda: not servers.temp_files(), SOON, message="temp dir empty after hang-up")
    time.sleep(1)  # a moment more: nothing may appear late either
    assert servers.temp_files() == []
    assert servers.counts() == before
    assert servers.healthy()


def test_a_stalled_upload_of_many_file_parts_is_refused_at_the_second_and_holds_nothing(servers):
    """A client sends one file part, the start of a second, and then nothing more while keeping
    its connection open. The server answers 400 at once (it used to wait for the rest, holding
    a spooled file per part: 999 parts, 999 descriptors) and keeps no spool file."""
    wait_until(lambda: not servers.temp_files(), SOON, message="server temp dir empty at start")
    before = servers.counts()
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nStalled\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n'
        f"Content-Type: video/mp4\r\n\r\n{'a' * 4096}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="b.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    # werkzeug reads the body 64 KiB at a time: exactly one read's worth arrives, then nothing.
    sent = head + b"b" * (FORM_READ_BYTES - len(head))
    exchange = RawExchange(servers.port, timeout=SOON)  # no answer within it fails the test
    try:
        exchange.send_head(
            "POST",
            "/video/upload",
            {
                "Authorization": f"Bearer {servers.creator}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
            content_length=len(sent) + 997 * 8192,  # the 997 more parts it will never send
        )
        exchange.send(sent)
        exchange.read_head()
        assert exchange.status == 400
        assert exchange.json()["code"] == "too_many_files"
        # The client is still connected, stalled: nothing of its body stays on the server.
        wait_until(lambda: not servers.temp_files(), SOON, message="temp dir empty while stalled")
    finally:
        exchange.close()
    assert servers.counts() == before
    assert servers.healthy()


# b. Clients that hang up mid-stream free their threads


def test_streams_cut_off_free_the_worker_threads_and_their_read_ahead(servers, ready_stream):
    video_id, token, stored = ready_stream
    path = media_path(video_id, token)
    worker = servers.worker_pid()

    # Warm up: both request threads exist, and two whole-file reads' helpers have ended.
    warmups = [open_stream(servers, path) for _ in range(2)]
    for exchange in warmups:
        assert exchange.status == 200
        received = exchange.read_to_end()
        assert_prefix_of(received, stored)
        assert len(received) == len(stored)
        exchange.close()
    baseline = settled_thread_count(worker)

    streams = [open_stream(servers, path) for _ in range(2)]
    try:
        for exchange in streams:
            assert exchange.status == 200 and exchange.content_length == len(stored)
            assert exchange.read(256 * 1024) == stored[: 256 * 1024]
        # Each stream has its read-ahead helper (else the thread check below proves nothing).
        wait_until(
            lambda: thread_count(worker) >= baseline + 2,
            SOON,
            message=f"two read-ahead threads over {baseline}",
        )
    finally:
        for exchange in streams:
            exchange.reset()

    # Both threads are free: a new stream holds one while /health takes the other. The
    # stream asks for the whole file (far more than the socket buffers hold) and is read
    # only in part, so its request thread is still busy writing while /health is asked.
    fresh = open_stream(servers, path, timeout=SOON)
    try:
        assert fresh.status == 200 and fresh.content_length == len(stored)
        assert fresh.read(256 * 1024) == stored[: 256 * 1024]
        health = request_within(servers, "GET", "/health")
        assert health.status == 200, health.body[:300]
        assert fresh.read(256 * 1024) == stored[256 * 1024 : 512 * 1024]
    finally:
        fresh.reset()

    wait_until(
        lambda: thread_count(worker) <= baseline,
        SOON,
        message=f"worker back to {baseline} threads",
    )


# c. The database dies mid-stream, and comes back
