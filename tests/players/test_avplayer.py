"""The iOS AVPlayer opening sequence: ``bytes=0-1``, then ``bytes=0-``, then a late range."""

import pytest

from tests.players.clients import AVPLAYER_HEADERS

pytestmark = [pytest.mark.slow, pytest.mark.embedded]


def test_avplayer_opening_sequence(live, ready, stored):
    size = len(stored)
    tail_start = size * 8 // 10
    connection = live.http.connection()  # one keep-alive connection, as AVPlayer uses

    def get(byte_range):
        connection.request(
            "GET", ready.media_path, headers={**AVPLAYER_HEADERS, "Range": byte_range}
        )
        response = connection.getresponse()
        return response, response.read()

    try:
        # The probe: AVPlayer gives up (-11850) unless this is 206 with exactly 2 bytes.
        response, body = get("bytes=0-1")
        assert response.status == 206
        assert body == stored[:2]
        assert response.headers["Content-Length"] == "2"
        assert response.headers["Content-Range"] == f"bytes 0-1/{size}"
        assert response.headers["Accept-Ranges"] == "bytes"
        assert response.headers["Content-Type"] == "video/mp4"

        response, body = get("bytes=0-")
        assert response.status == 206
        assert response.headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
        assert response.headers["Content-Length"] == str(size)
        assert body == stored

        response, body = get(f"bytes={tail_start}-")
        assert response.status == 206
        assert response.headers["Content-Range"] == f"bytes {tail_start}-{size - 1}/{size}"
        assert response.headers["Content-Length"] == str(size - tail_start)
        assert body == stored[tail_start:]
    finally:
        connection.close()
