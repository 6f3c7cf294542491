"""Real players on the encrypted HLS ladder (docs/playback.md#hls), over a real socket.

A creator uploads a 6 s clip over HTTP; its ladder (360p and 240p, 2 s segments, AES-128)
is encoded by the real encoder and stored by the processing job's store
(tests/support/hls_ladders.py); a viewer's ``hls_url`` then opens it in ffprobe, ffmpeg and
hls.js in headless Chromium. The page is on another origin than the API, so hls.js goes
through CORS for every playlist, segment and key, as a web app's player would.
"""

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from tests.players.clients import run
from tests.support import hls_ladders
from tests.support.tools import require_tool

ROOT = Path(__file__).resolve().parents[2]
HLSJS = ROOT / ".tools/hlsjs/node_modules/hls.js/dist/hls.min.js"
SECONDS, FPS = 6, 24

pytestmark = [pytest.mark.slow, pytest.mark.embedded]


@dataclass
class Ladder:
    hls_url: str
    source_frames: int
    stored: hls_ladders.Stored
    encoded: hls_ladders.Encoded

    def variant_urls(self):
        """Each rendition's media playlist, resolved as a player does, highest first."""
        return [
            urljoin(self.hls_url, f"{r['name']}/index.m3u8?{urlsplit(self.hls_url).query}")
            for r in self.stored.summary["renditions"]
        ]


@pytest.fixture(scope="module")
def ladder(live, publish, tmp_path_factory):
    require_tool(shutil.which("ffprobe") and shutil.which("ffmpeg"), "ffmpeg")
    folder = tmp_path_factory.mktemp("hls-players")
    source = hls_ladders.write_noisy_clip(folder / "noise.mp4", SECONDS, FPS)
    video_id, _, minted = publish(source, "Six noisy seconds")
    encoded = hls_ladders.encode(source, folder / "work", segment_seconds=2)
    stored = hls_ladders.store(live.server.app, video_id, encoded)
    live.warm(video_id)  # the new ladder's segments

    hls_url = minted["hls_url"]
    assert hls_url.startswith(f"{live.server.base_url}/video/{video_id}/hls/master.m3u8?token=")
    return Ladder(hls_url, _frames(source)["video"], stored, encoded)


def _probe(url, *entries):
    found = run(["ffprobe", "-v", "error", *entries, "-of", "json", url], timeout=60)
    return json.loads(found.stdout)


def _frames(url):
    """Frames decoded per stream type: ffprobe decodes the whole input to count them."""
    streams = _probe(str(url), "-count_frames", "-show_entries", "stream=codec_type,nb_read_frames")
    return {s["codec_type"]: int(s["nb_read_frames"]) for s in streams["streams"]}


def test_ffprobe_lists_every_variant_of_the_master(ladder):
    found = _probe(ladder.hls_url, "-show_entries", "stream=codec_name,width,height")
    pictures = {(s["width"], s["height"]) for s in found["streams"] if s["codec_name"] == "h264"}
    assert pictures == {(r["width"], r["height"]) for r in ladder.stored.summary["renditions"]}
    assert pictures == {(640, 360), (426, 240)}
    assert {s["codec_name"] for s in found["streams"]} == {"h264", "aac"}


def _decoded(source):
    """ffmpeg decodes every stream of ``source`` (a URL or a path): the MD5 of each decoded
    frame, per stream type, in order (``framemd5``); ffmpeg must say nothing at level error."""
    found = run(["ffmpeg", "-v", "error", "-i", str(source), "-map", "0", "-f", "framemd5", "-"])
    assert found.stderr == "", found.stderr
    types, hashes = {}, {}
    for line in found.stdout.splitlines():
        if line.startswith("#media_type "):  # framemd5's header: "#media_type 0: video"
            index, kind = line.removeprefix("#media_type ").split(": ")
            types[index] = kind
        elif line and not line.startswith("#"):
            fields = [field.strip() for field in line.split(",")]
            hashes.setdefault(types[fields[0]], []).append(fields[-1])
    return hashes


def test_ffmpeg_decrypts_and_decodes_every_frame_of_each_variant(ladder, tmp_path):
    """Over HTTP, each variant decodes with no error into the very frames the encoder made:
    a segment missing, repeated, out of order, of another rendition or badly decrypted
    changes them; the count is the source's."""
    assert ladder.source_frames == SECONDS * FPS
    for url, rendition in zip(
        ladder.variant_urls(), ladder.stored.summary["renditions"], strict=True
    ):
        plain = tmp_path / f"{rendition['name']}.ts"  # the encoder's own segments, joined
        segments = ladder.encoded.rendition(rendition["name"])["segments"]
        plain.write_bytes(
            b"".join(ladder.encoded.plain(rendition["name"], n) for n in range(len(segments)))
        )
        served, made = _decoded(url), _decoded(plain)
        assert len(served["video"]) == ladder.source_frames, url
        assert served["video"] == made["video"], url
        assert len(served["audio"]) > 0 and served["audio"] == made["audio"], url


def _key_tags(live, playlist_url):
    """{segment URI: (key URI, IV)}, read as a player reads the media playlist: each segment
    with the EXT-X-KEY tag before it, the key URI resolved against the playlist's."""
    text = live.http.request("GET", playlist_url.removeprefix(live.server.base_url)).body
    tags, key = {}, None
    for line in text.decode().splitlines():
        if line.startswith("#EXT-X-KEY:"):
            attributes = dict(item.split("=", 1) for item in line.split(":", 1)[1].split(","))
            key = (urljoin(playlist_url, attributes["URI"].strip('"')), attributes["IV"])
        elif line and not line.startswith("#"):
            tags[line.split("?")[0]] = (key[0], bytes.fromhex(key[1].removeprefix("0x")))
    return tags


def test_a_segment_alone_is_useless_and_its_key_makes_it_play(live, ladder, tmp_path):
    playlist = ladder.variant_urls()[0]
    segment_url = urljoin(playlist, f"00001.ts?{urlsplit(ladder.hls_url).query}")
    reply = live.http.request("GET", segment_url.removeprefix(live.server.base_url))
    assert reply.status == 200
    # Plain MPEG-TS starts every 188-byte packet with 0x47; ciphertext does so by chance
    # (1 in 256).
    packets = range(0, len(reply.body) - 187, 188)
    synced = sum(reply.body[start] == 0x47 for start in packets)
    assert synced < len(packets) / 10, (synced, len(packets))
    encrypted = tmp_path / "encrypted.ts"
    encrypted.write_bytes(reply.body)
    # Read as what it is, MPEG-TS: left to guess, ffprobe once took random bytes for H.263
    # and decoded a "frame" of them (CI, 2026-11-29).
    refused = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-f",
            "mpegts",
            "-count_frames",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "json",
            str(encrypted),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    streams = json.loads(refused.stdout or "{}").get("streams", [])
    assert refused.returncode != 0 or not any(int(s.get("nb_read_frames", 0)) for s in streams)

    key_url, iv = _key_tags(live, playlist)["00001.ts"]  # what the playlist tells a player
    assert iv == ladder.stored.ivs[("360p", 1)]
    key = live.http.request("GET", key_url.removeprefix(live.server.base_url)).body
    plain = tmp_path / "plain.ts"
    plain.write_bytes(hls_ladders.decrypt(key, iv, reply.body))
    assert plain.read_bytes() == ladder.encoded.plain("360p", 1)
    assert _frames(plain)["video"] == 2 * FPS


PAGE = """<!doctype html>
<html><body>
<video id="player" muted playsinline width="640" height="360"></video>
<script>{hlsjs}</script>
<script>
window.report = {{levels: [], fragments: [], errors: [], keys: 0}};
window.startPlayer = function (source, config) {{
  const video = document.getElementById('player');
  const hls = new Hls(config);
  window.hls = hls;
  hls.on(Hls.Events.MANIFEST_PARSED, (event, data) => {{
    report.levels = data.levels.map(level => level.height);
    video.play();
  }});
  hls.on(Hls.Events.FRAG_LOADED, (event, data) =>
    report.fragments.push([data.frag.level, data.frag.sn]));
  hls.on(Hls.Events.KEY_LOADED, () => {{ report.keys += 1; }});
  hls.on(Hls.Events.ERROR, (event, data) =>
    report.errors.push([data.type, data.details, data.fatal]));
  hls.loadSource(source);
  hls.attachMedia(video);
}};
</script>
</body></html>
"""

# Waits (async script) until the video has played past ``arguments[0]`` seconds (then
# pauses it if ``arguments[1]``), or an hls.js error is fatal, or 30 s have gone by; then
# reports, with the time ranges the video element actually played and its frame counts.
PLAYED_PAST = """
const [target, pause, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const video = document.getElementById('player');
const started = performance.now();
const check = () => {
  const fatal = report.errors.some(error => error[2]);
  if (video.currentTime > target || fatal || performance.now() - started > 30000) {
    if (pause) { video.pause(); }
    const played = [];
    for (let i = 0; i < video.played.length; i++) {
      played.push([video.played.start(i), video.played.end(i)]);
    }
    const quality = video.getVideoPlaybackQuality();
    done({now: video.currentTime, height: video.videoHeight, report: report, played: played,
          frames: quality.totalVideoFrames, corrupted: quality.corruptedVideoFrames,
          level: hls.currentLevel, estimate: hls.bandwidthEstimate});
  } else { setTimeout(check, 100); }
};
check();
"""

# A player stalling for data on a busy machine is reported as a non-fatal media error.
STALLS = {"bufferStalledError", "bufferNudgeOnStall", "bufferSeekOverHole"}


@pytest.fixture
def browser(chromium):
    require_tool(HLSJS.exists(), "hls.js (make tools)")
    chromium.set_script_timeout(45)  # PLAYED_PAST gives up after 30 s of playing
    return chromium


def _open_player(live, browser, ladder, cap_kbps=None):
    """hls.js on a page of another origin (localhost, the API being 127.0.0.1), started on
    ``hls_url``; with ``cap_kbps``, Chromium's network is throttled to that rate first."""
    if cap_kbps:
        browser.execute_cdp_cmd("Network.enable", {})
        throughput = cap_kbps * 1000 / 8
        browser.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": 20,
                "downloadThroughput": throughput,
                "uploadThroughput": throughput,
            },
        )
    page = live.server.add_page(PAGE.format(hlsjs=HLSJS.read_text()))
    browser.get(page.replace("//127.0.0.1:", "//localhost:"))
    # A high first estimate: the first fragment comes from the top rendition, so a lower
    # one later is hls.js measuring the network, not its cautious start.
    browser.execute_script(
        "startPlayer(arguments[0], {abrEwmaDefaultEstimate: 20000000})", ladder.hls_url
    )


def _fatal(report):
    return [error for error in report["errors"] if error[2]]


def _unexpected(report):
    """hls.js errors, fatal or retried, but for stalls: a playlist, key or segment refused
    once, or a segment that does not decrypt or parse, is one."""
    return [error for error in report["errors"] if error[1] not in STALLS]


def test_hlsjs_plays_the_master_and_seeks(live, browser, ladder):
    _open_player(live, browser, ladder)
    played = browser.execute_async_script(PLAYED_PAST, 1.0, True)  # paused there
    assert played["now"] > 1.0 and not _fatal(played["report"]), played
    assert sorted(played["report"]["levels"]) == [240, 360], played
    seek = "const video = document.getElementById('player'); video.currentTime = 4.2;"
    browser.execute_script(seek + " video.play();")
    after = browser.execute_async_script(PLAYED_PAST, 4.6, False)
    assert after["now"] > 4.6 and _unexpected(after["report"]) == [], after
    assert after["height"] == 360, after  # the top rendition on an open network
    assert any(sn == 2 for _, sn in after["report"]["fragments"]), after
    assert after["report"]["keys"] >= 1, after  # the segments were encrypted, the key fetched
    # Played from 0 to the pause, then from the seek on: the seconds between were skipped
    # (a seek that did nothing would have played them through).
    assert len(after["played"]) == 2, after
    (first, _), (start, _) = after["played"]
    assert first < 1.0 and abs(start - 4.2) < 0.25, after
    assert after["frames"] > FPS and after["corrupted"] == 0, after


def test_hlsjs_picks_a_lower_rendition_on_a_slow_network(live, browser, ladder):
    top, low = ladder.stored.summary["renditions"]
    cap = 1000  # kbit/s: between the two renditions' BANDWIDTHs
    assert low["bandwidth"] < 0.8 * cap * 1000 < cap * 1000 < top["bandwidth"], (top, low)
    _open_player(live, browser, ladder, cap_kbps=cap)
    played = browser.execute_async_script(PLAYED_PAST, 4.5, False)
    assert played["now"] > 4.5 and not _fatal(played["report"]), played
    levels = played["report"]["levels"]
    lowest, highest = levels.index(low["height"]), levels.index(top["height"])
    assert played["report"]["fragments"][0] == [highest, 0], played  # started high
    assert [level for level, sn in played["report"]["fragments"] if sn >= 1][-1] == lowest, played
    assert played["height"] == low["height"], played
