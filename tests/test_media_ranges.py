"""GET/HEAD /video/{id}/media: every rule of docs/playback.md#range-requests, byte for byte.

Each body is compared with the stored file; every test runs on mongomock and
on the embedded server.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.http import http_date, parse_date

from tests.support.errors import assert_error


@pytest.fixture
def playing(library, viewer, multi_chunk_mp4):
    """A ready multi-chunk video, a viewer's playback token for it, and its media path."""
    video = library.ready_video(multi_chunk_mp4)
    token = library.playback_token(video["id"], viewer)
    return video, f"/video/{video['id']}/media?token={token}"


def get(client, url, **headers):
    return client.get(url, headers=headers)


def assert_partial(response, data, start, end):
    assert response.status_code == 206, response.get_data(as_text=True)[:200]
    assert response.headers["Content-Range"] == f"bytes {start}-{end}/{len(data)}"
    assert response.headers["Content-Length"] == str(end - start + 1)
    assert response.data == data[start : end + 1]


def assert_whole(response, data):
    assert response.status_code == 200
    assert "Content-Range" not in response.headers
    assert response.headers["Content-Length"] == str(len(data))
    assert response.data == data


def test_no_range_gives_the_whole_file_with_every_header(client, playing):
    video, url = playing
    response = get(client, url)
    assert_whole(response, video["bytes"])
    headers = response.headers
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["Content-Type"] == "video/mp4"
    assert headers["ETag"] == f'"{video["sha256"]}"'
    assert parse_date(headers["Last-Modified"]) is not None
    max_age = int(re.fullmatch(r"private, max-age=(\d+)", headers["Cache-Control"]).group(1))
    assert 0 < max_age <= 3600  # never beyond the token's life (1 h here)


def test_the_file_spans_several_chunks(playing):
    video, _ = playing
    assert len(video["bytes"]) > 5 * 255 * 1024


def test_ios_probe_bytes_0_1_gives_exactly_two_bytes(client, playing):
    video, url = playing
    assert_partial(get(client, url, Range="bytes=0-1"), video["bytes"], 0, 1)


@pytest.mark.parametrize(
    "start,end",
    [(0, 0), (100, 5000), (255 * 1024 - 3, 255 * 1024 + 2), (300_000, 1_200_000)],
)
def test_closed_range_across_chunk_borders(client, playing, start, end):
    video, url = playing
    assert_partial(get(client, url, Range=f"bytes={start}-{end}"), video["bytes"], start, end)


def test_open_ended_range(client, playing):
    video, url = playing
    size = len(video["bytes"])
    start = size - 700_000
    assert_partial(get(client, url, Range=f"bytes={start}-"), video["bytes"], start, size - 1)


def test_suffix_range(client, playing):
    video, url = playing
    size = len(video["bytes"])
    assert_partial(get(client, url, Range="bytes=-1000"), video["bytes"], size - 1000, size - 1)


def test_end_past_the_last_byte_is_clipped(client, playing):
    video, url = playing
    size = len(video["bytes"])
    response = get(client, url, Range=f"bytes={size - 10}-{size + 5000}")
    assert_partial(response, video["bytes"], size - 10, size - 1)


def test_suffix_longer_than_the_file_gives_all_of_it(client, playing):
    video, url = playing
    size = len(video["bytes"])
    assert_partial(get(client, url, Range=f"bytes=-{size * 3}"), video["bytes"], 0, size - 1)


@pytest.mark.parametrize("header", ["bytes={size}-", "bytes={size}-{size_plus}", "bytes=-0"])
def test_nothing_satisfiable_is_416_with_the_size(client, playing, header):
    video, url = playing
    size = len(video["bytes"])
    response = get(client, url, Range=header.format(size=size, size_plus=size + 9))
    assert_error(response, 416, "range_not_satisfiable")
    assert response.headers["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize(
    "header", ["bytes=abc", "bytes=5-2", "pages=0-5", "0-1", "bytes=1-2,", "bytes=--5", "bytes"]
)
def test_malformed_or_foreign_range_is_ignored(client, playing, header):
    video, url = playing
    assert_whole(get(client, url, Range=header), video["bytes"])


def parse_multipart(response):
    boundary = response.headers["Content-Type"].split("boundary=")[1]
    body = response.data
    assert body.endswith(f"\r\n--{boundary}--\r\n".encode())
    parts = body.split(f"--{boundary}".encode())[1:-1]
    found = []
    for part in parts:
        head, _, data = part.partition(b"\r\n\r\n")
        match = re.search(rb"Content-Range: bytes (\d+)-(\d+)/(\d+)", head)
        assert b"Content-Type: video/mp4" in head
        found.append((int(match[1]), int(match[2]), data.removesuffix(b"\r\n")))
    return found


def test_several_ranges_give_multipart_byteranges(client, playing):
    video, url = playing
    data = video["bytes"]
    response = get(client, url, Range="bytes=0-99,300000-300099,-50")
    assert response.status_code == 206
    assert response.headers["Content-Type"].startswith("multipart/byteranges; boundary=")
    assert response.headers["Content-Length"] == str(len(response.data))
    parts = parse_multipart(response)
    expected = [(0, 99), (300000, 300099), (len(data) - 50, len(data) - 1)]
    assert [(start, end) for start, end, _ in parts] == expected
    for start, end, body in parts:
        assert body == data[start : end + 1]


def test_one_satisfiable_range_among_several_is_not_416(client, playing):
    video, url = playing
    size = len(video["bytes"])
    response = get(client, url, Range=f"bytes=10-19,{size + 100}-{size + 200}")
    assert_partial(response, video["bytes"], 10, 19)


def test_touching_ranges_are_merged(client, playing):
    video, url = playing
    assert_partial(get(client, url, Range="bytes=0-9,10-29"), video["bytes"], 0, 29)


def test_hundreds_of_ranges_get_the_whole_file(client, playing):
    video, url = playing
    many = ",".join(f"{n * 100}-{n * 100 + 1}" for n in range(200))
    assert_whole(get(client, url, Range=f"bytes={many}"), video["bytes"])


class TestConditional:
    def test_if_range_with_the_current_etag_gives_the_range(self, client, playing):
        video, url = playing
        response = get(client, url, Range="bytes=5-9", **{"If-Range": f'"{video["sha256"]}"'})
        assert_partial(response, video["bytes"], 5, 9)

    @pytest.mark.parametrize("validator", ['"stale"', 'W/"{sha}"', "Tue, 01 Jan 2019 00:00:00 GMT"])
    def test_stale_or_weak_if_range_gives_the_whole_file(self, client, playing, validator):
        video, url = playing
        if_range = validator.format(sha=video["sha256"])
        response = get(client, url, Range="bytes=5-9", **{"If-Range": if_range})
        assert_whole(response, video["bytes"])

    def test_if_range_with_last_modified_gives_the_range(self, client, playing):
        video, url = playing
        last_modified = get(client, url, Range="bytes=0-0").headers["Last-Modified"]
        response = get(client, url, Range="bytes=5-9", **{"If-Range": last_modified})
        assert_partial(response, video["bytes"], 5, 9)

    @pytest.mark.parametrize("tags", ['"{sha}"', '"other", "{sha}"', "*", 'W/"{sha}"'])
    def test_if_none_match_gives_304(self, client, playing, tags):
        video, url = playing
        last_modified = get(client, url, Range="bytes=0-0").headers["Last-Modified"]
        response = get(client, url, **{"If-None-Match": tags.format(sha=video["sha256"])})
        assert response.status_code == 304
        assert response.data == b""
        assert response.headers["ETag"] == f'"{video["sha256"]}"'
        assert response.headers["Cache-Control"].startswith("private, max-age=")
        # werkzeug drops Last-Modified from a 304 unless told otherwise; the contract keeps it.
        assert response.headers.get("Last-Modified") == last_modified

    def test_another_etag_gives_the_file(self, client, playing):
        video, url = playing
        assert_whole(get(client, url, **{"If-None-Match": '"other"'}), video["bytes"])

    def test_if_modified_since_now_gives_304(self, client, playing):
        _, url = playing
        last_modified = get(client, url, Range="bytes=0-0").headers["Last-Modified"]
        later = http_date(datetime.now(UTC) + timedelta(minutes=1))
        response = get(client, url, **{"If-Modified-Since": later})
        assert response.status_code == 304
        assert response.headers.get("Last-Modified") == last_modified


class TestHead:
    def test_same_headers_no_body(self, client, playing):
        _, url = playing
        full = get(client, url)
        head = client.head(url)
        assert head.status_code == 200
        assert head.data == b""
        for name in ("Content-Length", "Content-Type", "ETag", "Last-Modified", "Accept-Ranges"):
            assert head.headers[name] == full.headers[name]

    def test_head_with_a_range(self, client, playing):
        video, url = playing
        head = client.head(url, headers={"Range": "bytes=0-1"})
        assert head.status_code == 206
        assert head.headers["Content-Range"] == f"bytes 0-1/{len(video['bytes'])}"
        assert head.headers["Content-Length"] == "2"
        assert head.data == b""


def test_the_thumbnail_is_a_cacheable_jpeg(client, library, viewer, multi_chunk_mp4):
    video = library.ready_video(multi_chunk_mp4)
    token = library.playback_token(video["id"], viewer)
    response = client.get(f"/video/{video['id']}/thumbnail?token={token}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.data[:3] == b"\xff\xd8\xff"
    etag = response.headers["ETag"]
    assert etag == f'"{video["thumbnail_sha256"]}"'
    assert response.headers["Cache-Control"].startswith("private, max-age=")
    again = client.get(
        f"/video/{video['id']}/thumbnail?token={token}", headers={"If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.headers["ETag"] == etag
    assert again.headers.get("Last-Modified") == response.headers["Last-Modified"]
    assert again.headers["Cache-Control"].startswith("private, max-age=")
