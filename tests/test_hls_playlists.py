"""HLS playlist text (services.hls_playlists), read back with the `m3u8` package (an
independent parser), then followed by ffprobe over HTTP through a real ladder: encrypted
segments (openssl, as the parent will encrypt them), a key, and a server that refuses
every request without the token."""

import functools
import http.server
import json
import math
import os
import shutil
import subprocess
import threading
from typing import ClassVar
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from demo import synthetic_media
from services import hls_playlists as playlists
from services.media import ladder, ladder_segments
from services.media.ladder_plan import LadderSettings
from tests.support.tools import require_tool

try:
    import m3u8
except ImportError:  # pragma: no cover - depends on the machine
    m3u8 = None

# A token with every character that must be escaped in a query.
TOKEN = "eyJ.a b+c/d=e&f?g#h%i"
BASE = "https://videos.example/video/65a1b2c3d4e5f60718293a4b/hls/"
RENDITIONS = [
    {
        "name": "720p",
        "bandwidth": 3_211_000,
        "average_bandwidth": 2_004_517,
        "width": 1280,
        "height": 720,
        "codecs": "avc1.64001f,mp4a.40.2",
        "frame_rate": 30000 / 1001,
    },
    {
        "name": "480p",
        "bandwidth": 1_500_001,
        "average_bandwidth": 1_000_000,
        "width": 854,
        "height": 480,
        "codecs": "avc1.64001e",
        "frame_rate": 25,
    },
]


@pytest.fixture
def parser():
    require_tool(m3u8 is not None, "the m3u8 package (requirements-dev.txt)")


def segments(durations):
    return [
        {"n": n, "duration": duration, "iv": os.urandom(16)} for n, duration in enumerate(durations)
    ]


def token_of(uri):
    return parse_qs(urlsplit(uri).query, keep_blank_values=True)["token"]


@pytest.mark.usefixtures("parser")
class TestMaster:
    def parsed(self):
        return m3u8.loads(playlists.master_playlist(RENDITIONS, TOKEN), uri=BASE + "master.m3u8")

    def test_it_is_a_version_3_multivariant_playlist(self):
        master = self.parsed()
        assert master.is_variant and master.version == 3
        assert master.is_independent_segments

    def test_each_variant_states_what_it_is(self):
        variants = self.parsed().playlists
        for variant, rendition in zip(variants, RENDITIONS, strict=True):
            info = variant.stream_info
            assert info.bandwidth == rendition["bandwidth"]
            assert info.average_bandwidth == rendition["average_bandwidth"]
            assert info.resolution == (rendition["width"], rendition["height"])
            assert info.codecs == rendition["codecs"]
            assert info.frame_rate == round(rendition["frame_rate"], 3)

    def test_variant_uris_are_relative_and_carry_the_token(self):
        variants = self.parsed().playlists
        assert [v.uri.split("?")[0] for v in variants] == ["720p/index.m3u8", "480p/index.m3u8"]
        assert variants[0].absolute_uri.startswith(BASE + "720p/index.m3u8?token=")
        assert all(token_of(v.uri) == [TOKEN] for v in variants)

    def test_frame_rate_has_three_decimals(self):
        text = playlists.master_playlist(RENDITIONS, TOKEN)
        assert "FRAME-RATE=29.970," not in text  # the attribute is last on its line
        assert "FRAME-RATE=29.970\n" in text and "FRAME-RATE=25.000\n" in text

    def test_a_codecs_list_cannot_break_out_of_its_quotes(self):
        hostile = [{**RENDITIONS[0], "codecs": 'avc1.64001f"\n#EXT-X-ENDLIST'}]
        with pytest.raises(ValueError):
            playlists.master_playlist(hostile, TOKEN)

    def test_there_is_no_playlist_without_a_token(self):
        with pytest.raises(ValueError):
            playlists.master_playlist(RENDITIONS, "")


@pytest.mark.usefixtures("parser")
class TestMediaPlaylist:
    def parsed(self, durations=(6.006, 6.006, 0.959292)):
        stored = segments(durations)
        text = playlists.media_playlist(stored, TOKEN)
        return stored, m3u8.loads(text, uri=BASE + "720p/index.m3u8")

    def test_it_is_a_finished_version_3_vod_playlist(self):
        _, media = self.parsed()
        assert media.version == 3 and media.playlist_type == "vod"
        assert media.is_endlist and media.is_independent_segments
        assert media.media_sequence == 0 and media.target_duration == 6

    @pytest.mark.parametrize(
        "durations", [(6.006, 6.006, 0.959), (6.4999996, 2.0), (6.5, 6.0), (0.04,), (10.0, 9.6)]
    )
    def test_every_extinf_rounds_to_at_most_the_target_duration(self, durations):
        _, media = self.parsed(durations)
        assert all(round(s.duration) <= media.target_duration for s in media.segments)
        # Rounded half up, as written (6.4999996 is written 6.500000): and no larger than that.
        rounded = [math.floor(s.duration + 0.5) for s in media.segments]
        assert media.target_duration == max(rounded)

    def test_each_segment_is_encrypted_with_its_own_iv(self):
        stored, media = self.parsed()
        for segment, facts in zip(media.segments, stored, strict=True):
            assert segment.key.method == "AES-128"
            assert segment.key.iv == "0x" + facts["iv"].hex()
            assert segment.duration == pytest.approx(facts["duration"], abs=1e-6)

    def test_uris_are_relative_and_carry_the_token(self):
        _, media = self.parsed()
        assert [s.uri.split("?")[0] for s in media.segments] == ["00000.ts", "00001.ts", "00002.ts"]
        assert media.segments[1].absolute_uri.startswith(BASE + "720p/00001.ts?token=")
        assert media.segments[0].key.absolute_uri.startswith(BASE + "key?token=")
        uris = [s.uri for s in media.segments] + [s.key.uri for s in media.segments]
        assert all(token_of(uri) == [TOKEN] for uri in uris)

    def test_an_iv_is_sixteen_bytes(self):
        with pytest.raises(ValueError):
            playlists.media_playlist([{"n": 0, "duration": 6.0, "iv": b"\x00" * 8}], TOKEN)
        text = playlists.media_playlist([{"n": 0, "duration": 6.0, "iv": "0x" + "ab" * 16}], TOKEN)
        assert m3u8.loads(text).segments[0].key.iv == "0x" + "ab" * 16

    def test_a_segment_must_last(self):
        with pytest.raises(ValueError):
            playlists.media_playlist(segments([6.0, 0.0]), TOKEN)


@pytest.mark.usefixtures("parser")
class TestBandwidths:
    SEGMENTS = [
        {"size": 2_000_000, "duration": 6.006},
        {"size": 2_500_001, "duration": 6.006},
        {"size": 100_000, "duration": 0.959},
    ]

    def test_bandwidth_covers_every_segment_and_average_the_whole(self):
        peak, average = playlists.bandwidths(self.SEGMENTS)
        assert all(peak >= s["size"] * 8 / s["duration"] for s in self.SEGMENTS)
        assert peak == math.ceil(2_500_001 * 8 / 6.006)
        bits = sum(s["size"] * 8 for s in self.SEGMENTS)
        assert average == math.ceil(bits / sum(s["duration"] for s in self.SEGMENTS))
        assert average <= peak

    def test_a_short_last_segment_can_set_the_peak(self):
        dense = [*self.SEGMENTS[:1], {"size": 400_000, "duration": 0.5}]
        peak, _ = playlists.bandwidths(dense)
        assert peak == math.ceil(400_000 * 8 / 0.5)

    def test_the_master_built_from_them_parses(self):
        peak, average = playlists.bandwidths(self.SEGMENTS)
        rendition = {**RENDITIONS[0], "bandwidth": peak, "average_bandwidth": average}
        (variant,) = m3u8.loads(playlists.master_playlist([rendition], TOKEN)).playlists
        assert variant.stream_info.bandwidth == peak
        assert variant.stream_info.average_bandwidth == average


# ---- a real player follows them -------------------------------------------------------


class TokenCheckingFiles(http.server.SimpleHTTPRequestHandler):
    """Serves a folder, but only to requests that carry ``?token=TOKEN``; records paths."""

    requested: ClassVar[list] = []

    def do_GET(self):
        path, _, query = self.path.partition("?")
        self.requested.append(path)
        if parse_qs(query).get("token") != [TOKEN]:
            self.send_error(403)
            return
        super().do_GET()

    def log_message(self, *args):
        pass


def encrypt(data, key, iv, folder):
    """AES-128-CBC with PKCS7 padding, by openssl: what the parent will store."""
    plain = folder / "plain"
    plain.write_bytes(data)
    command = ["openssl", "enc", "-aes-128-cbc", "-K", key.hex(), "-iv", iv.hex(), "-in"]
    return subprocess.run([*command, str(plain)], capture_output=True, check=True).stdout


def publish(manifest, work, site):
    """The ladder as the app will serve it: encrypted segments, a key, both playlists."""
    key = os.urandom(16)
    (site / "key").write_bytes(key)
    renditions = []
    for rung in manifest["renditions"]:
        (site / rung["name"]).mkdir()
        stored = []
        for n, segment in enumerate(rung["segments"]):
            iv = os.urandom(16)
            plain = ladder_segments.segment_path(work, segment["file"]).read_bytes()
            data = encrypt(plain, key, iv, work)
            (site / rung["name"] / playlists.segment_name(n)).write_bytes(data)
            stored.append({"n": n, "duration": segment["duration"], "iv": iv, "size": len(data)})
        text = playlists.media_playlist(stored, TOKEN)
        (site / rung["name"] / playlists.MEDIA_PLAYLIST).write_text(text)
        peak, average = playlists.bandwidths(stored)
        renditions.append({**rung, "bandwidth": peak, "average_bandwidth": average})
    (site / "master.m3u8").write_text(playlists.master_playlist(renditions, TOKEN))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    require_tool(shutil.which("openssl"), "openssl")
    folder = tmp_path_factory.mktemp("served")
    source = synthetic_media.write_video(
        folder / "clip.mp4", seconds=4.0, fps=24, width=640, height=360
    )
    settings = LadderSettings(segment_seconds=2)
    manifest = ladder.encode_ladder(source, folder / "work", settings=settings)
    site = folder / "site"
    site.mkdir()
    publish(manifest, folder / "work", site)
    handler = functools.partial(TokenCheckingFiles, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    yield {"base": base, "manifest": manifest}
    server.shutdown()
    server.server_close()


def ffprobe(url, *options):
    command = ["ffprobe", "-v", "error", *options, "-of", "json", url]
    return json.loads(subprocess.run(command, capture_output=True, check=True, text=True).stdout)


class TestPlayedByFfmpeg:
    def test_ffprobe_lists_every_variant(self, served):
        require_tool(shutil.which("ffprobe"), "ffprobe")
        query = "?token=" + quote(TOKEN, safe="")
        found = ffprobe(served["base"] + "master.m3u8" + query, "-show_programs")
        sizes = sorted(
            (s["width"], s["height"])
            for p in found["programs"]
            for s in p["streams"]
            if s["codec_type"] == "video"
        )
        rungs = served["manifest"]["renditions"]
        assert sizes == sorted((r["width"], r["height"]) for r in rungs)

    def test_each_variant_decrypts_and_decodes_to_every_frame(self, served):
        require_tool(shutil.which("ffprobe"), "ffprobe")
        query = "?token=" + quote(TOKEN, safe="")
        TokenCheckingFiles.requested.clear()
        for rung in served["manifest"]["renditions"]:
            url = f"{served['base']}{rung['name']}/index.m3u8{query}"
            found = ffprobe(url, "-count_frames", "-show_streams")
            video = next(s for s in found["streams"] if s["codec_type"] == "video")
            assert int(video["nb_read_frames"]) == served["manifest"]["frames"]
        # The key and every segment were fetched, each with the token (403 otherwise).
        assert "/key" in TokenCheckingFiles.requested
        assert "/360p/00001.ts" in TokenCheckingFiles.requested

    def test_a_segment_alone_is_not_media(self, served):
        require_tool(shutil.which("ffprobe"), "ffprobe")
        url = served["base"] + "240p/00000.ts?token=" + quote(TOKEN, safe="")
        command = ["ffprobe", "-v", "error", "-show_streams", url]
        assert subprocess.run(command, capture_output=True, check=False).returncode != 0
