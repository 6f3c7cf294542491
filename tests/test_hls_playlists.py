"""HLS playlist text (services.hls_playlists), read back with the `m3u8` package: an
independent parser, as a player reads it."""

import math
import os
from urllib.parse import parse_qs, urlsplit

import pytest

from services import hls_playlists as playlists
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


@pytest.fixture(autouse=True)
def parser():
    require_tool(m3u8 is not None, "the m3u8 package (requirements-dev.txt)")


def segments(durations):
    return [
        {"n": n, "duration": duration, "iv": os.urandom(16)} for n, duration in enumerate(durations)
    ]


def token_of(uri):
    return parse_qs(urlsplit(uri).query, keep_blank_values=True)["token"]


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
