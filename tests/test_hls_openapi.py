"""The HLS routes in /openapi.json (docs/playback.md#hls): the token parameter, the content
types and every answer each route can give. That the live routes answer only what is
documented, with these content types, is tests/test_api_schema.py's (schemathesis)."""

import pytest

from tests.support.schema_world import served_document

HLS = "/video/{video_id}/hls"
MASTER = f"{HLS}/master.m3u8"
MEDIA_PLAYLIST = f"{HLS}/{{rendition}}/index.m3u8"
SEGMENT = f"{HLS}/{{rendition}}/{{n}}.ts"
KEY = f"{HLS}/key"
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
ERROR = {"$ref": "#/components/schemas/Error"}
REFUSALS = {"400", "401", "403", "404", "409", "429"}
# Playlists and segments are served as the media file is: ranges (206, 416) and 304.
BYTES_ANSWERS = {"200", "206", "304", "416"} | REFUSALS
TYPES = {
    MASTER: PLAYLIST_TYPE,
    MEDIA_PLAYLIST: PLAYLIST_TYPE,
    SEGMENT: "video/mp2t",
    KEY: "application/octet-stream",
}


@pytest.fixture(scope="module")
def document():
    return served_document()


def operation(document, path):
    return document["paths"][path]["get"]


@pytest.mark.parametrize("path", sorted(TYPES))
def test_the_playback_token_in_the_query_is_the_only_credential(document, path):
    found = operation(document, path)
    assert found["security"] == []
    token = [p for p in found["parameters"] if p["name"] == "token"]
    assert token == [
        {
            "in": "query",
            "name": "token",
            "required": True,
            "description": token[0]["description"],
            "schema": {"type": "string", "minLength": 1},
        }
    ]
    assert set(document["paths"][path]) == {"get", "parameters"}  # HEAD is GET's, as on /media


@pytest.mark.parametrize("path", sorted(TYPES))
def test_each_route_documents_its_content_type_and_refusals(document, path):
    responses = operation(document, path)["responses"]
    assert list(responses["200"]["content"]) == [TYPES[path]]
    expected = REFUSALS | {"200"} if path == KEY else BYTES_ANSWERS
    assert set(responses) - {"default"} == expected
    for status in expected - {"200", "206", "304"}:
        assert responses[status]["content"]["application/json"]["schema"] == ERROR, status
    assert "token_wrong_video" in responses["403"]["description"]
    assert "purchase_required" in responses["403"]["description"]  # a refund stops HLS too
    assert "hls_not_found" in responses["404"]["description"]


@pytest.mark.parametrize("path", [MASTER, MEDIA_PLAYLIST, SEGMENT])
def test_playlists_and_segments_answer_ranges_as_the_media_route(document, path):
    found = operation(document, path)
    headers = {p["name"] for p in found["parameters"] if p["in"] == "header"}
    assert headers == {"Range", "If-Range", "If-None-Match", "If-Modified-Since"}
    responses = found["responses"]
    assert "Content-Range" in responses["206"]["headers"]
    assert "multipart/byteranges" in responses["206"]["content"]
    assert "Content-Range" in responses["416"]["headers"]
    assert "ETag" in responses["200"]["headers"] and "ETag" in responses["304"]["headers"]


def test_what_caches_may_keep_is_documented(document):
    def cache_control(path):
        return operation(document, path)["responses"]["200"]["headers"]["Cache-Control"]

    assert "no-store" in cache_control(MASTER)["description"]
    assert "no-store" in cache_control(MEDIA_PLAYLIST)["description"]
    assert "no-store" in cache_control(KEY)["description"]
    assert "immutable" in cache_control(SEGMENT)["description"]


def test_playlists_are_text_and_the_key_is_16_bytes(document):
    import m3u8

    def example(path):
        text = operation(document, path)["responses"]["200"]["content"][PLAYLIST_TYPE]
        assert text["schema"] == {"type": "string"}
        return m3u8.loads(text["example"])

    variant = example(MASTER).playlists[0]
    assert variant.stream_info.resolution == (1280, 720) and variant.uri.endswith("?token=T")
    media = example(MEDIA_PLAYLIST)
    assert media.is_endlist and media.segments[0].key.method == "AES-128"
    assert media.segments[0].key.uri == "../key?token=T"
    key = operation(document, KEY)["responses"]["200"]["content"]["application/octet-stream"]
    assert key["schema"]["minLength"] == key["schema"]["maxLength"] == 16
    key_headers = {p["name"] for p in operation(document, KEY)["parameters"]}
    assert key_headers == {"token"}  # no Range, no conditional request
