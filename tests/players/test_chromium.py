"""Headless Chromium: ``<video src=stream_url>`` as the React Native WebView opens it."""

import html

import pytest

from tests.players.clients import SECONDS

PLAYER_PAGE = """<!doctype html>
<html><body>
<video id="player" src="{src}" muted playsinline preload="auto" width="640" height="360"></video>
<img id="thumbnail" src="{thumbnail}" alt="">
</body></html>
"""

WAIT_FOR_METADATA = """
const done = arguments[arguments.length - 1];
const video = document.getElementById('player');
const report = () => done({
    duration: video.duration, readyState: video.readyState,
    width: video.videoWidth, height: video.videoHeight,
    error: video.error && [video.error.code, video.error.message],
});
if (video.readyState >= 1 || video.error) { report(); }
else {
    video.addEventListener('loadedmetadata', report, {once: true});
    video.addEventListener('error', report, {once: true});
}
"""

WAIT_FOR_THUMBNAIL = """
const done = arguments[arguments.length - 1];
const image = document.getElementById('thumbnail');
const report = () => done({loaded: image.complete && image.naturalWidth > 0,
                           width: image.naturalWidth, height: image.naturalHeight});
if (image.complete) { report(); }
else {
    image.addEventListener('load', report, {once: true});
    image.addEventListener('error', report, {once: true});
}
"""

PLAY_THEN_SEEK = """
const target = arguments[0];
const done = arguments[arguments.length - 1];
const video = document.getElementById('player');
const fail = (what) => done({error: what});
video.addEventListener('error', () => fail([video.error.code, video.error.message]));
video.play().then(() => {
    video.addEventListener('seeked', () => {
        const seekedAt = video.currentTime;
        const started = performance.now();
        const check = () => {
            const advanced = video.currentTime > seekedAt + 0.5;
            if (advanced || performance.now() - started > 10000) {
                done({seekedAt: seekedAt, now: video.currentTime, paused: video.paused,
                      readyState: video.readyState, error: null});
            } else { setTimeout(check, 100); }
        };
        check();
    }, {once: true});
    video.currentTime = target;
}, (error) => fail(String(error)));
"""

pytestmark = [pytest.mark.slow, pytest.mark.embedded]


def test_chromium_plays_and_seeks_the_stream_url(live, ready, stored, chromium):
    # What the React Native app does: /stream with its access token, then a WebView on stream_url.
    http = live.http
    reply = http.request(
        "GET",
        f"/video/{ready.video_id}/stream?token={ready.playback_token}",
        headers=http.bearer(ready.viewer_token),
    )
    assert reply.status == 200, reply.body[:300]
    stream_url, thumbnail_url = reply.json()["stream_url"], reply.json()["thumbnail_url"]
    assert stream_url.startswith(live.server.base_url + "/")
    assert thumbnail_url.startswith(live.server.base_url + "/")

    mark = live.recorder.mark()
    page = PLAYER_PAGE.format(src=html.escape(stream_url), thumbnail=html.escape(thumbnail_url))
    chromium.get(live.server.add_page(page))
    metadata = chromium.execute_async_script(WAIT_FOR_METADATA)
    assert metadata["error"] is None, metadata
    assert metadata["duration"] == pytest.approx(SECONDS, abs=0.5)
    assert (metadata["width"], metadata["height"]) == (640, 360)

    thumbnail = chromium.execute_async_script(WAIT_FOR_THUMBNAIL)
    assert thumbnail["loaded"], thumbnail  # the signed URL works with no header, like <Image>

    target = round(metadata["duration"] * 0.7, 2)
    played = chromium.execute_async_script(PLAY_THEN_SEEK, target)
    assert played["error"] is None, played
    assert played["seekedAt"] == pytest.approx(target, abs=1.0), played
    assert played["now"] > played["seekedAt"], f"playback did not continue after the seek: {played}"
    assert played["readyState"] >= 2, played

    size = len(stored)
    browser = [entry for entry in live.recorder.since(mark) if "Chrome" in entry.user_agent]
    assert browser, "the browser made no media request"
    assert browser[0].range == "bytes=0-", browser[0]  # docs/clients.md#players
    for entry in browser:
        assert entry.method == "GET"
        if entry.range_start is not None:
            assert entry.status == 206, entry
            assert entry.content_range.startswith(f"bytes {entry.range_start}-"), entry
            assert entry.content_range.endswith(f"/{size}"), entry
        else:
            assert entry.status == 200, entry


SWAGGER_RENDERED = """
const done = arguments[arguments.length - 1];
const started = performance.now();
const check = () => {
    const operations = document.querySelectorAll('.opblock').length;
    if (operations > 0 || performance.now() - started > 15000) {
        done({operations: operations, title: document.querySelector('.title')?.textContent});
    } else { setTimeout(check, 100); }
};
check();
"""


def test_swagger_ui_renders_every_route_offline(live, chromium, tmp_path):
    """/docs in a browser whose network reaches nothing but the API (no CDN to fall back on)."""
    operations = sum(
        len([method for method in path if method != "parameters"])
        for path in live.http.request("GET", "/openapi.json").json()["paths"].values()
    )
    chromium.get(live.server.url("/docs"))
    rendered = chromium.execute_async_script(SWAGGER_RENDERED)
    assert rendered["operations"] == operations, rendered
    assert rendered["title"].startswith("Video App API"), rendered
    chromium.save_screenshot(str(tmp_path / "docs.png"))
