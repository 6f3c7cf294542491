"""The HLS ladder's plan (services.media.ladder_plan): which rungs a source gets, their
sizes and presets, the segment length in frames, the muxer's options. No encoding."""

from fractions import Fraction

import pytest

from services.media import ladder_plan
from services.media.ladder_plan import LadderSettings, plan_rungs

NTSC = Fraction(24000, 1001)  # a rate whose frames do not fall on whole milliseconds


def sizes(rungs):
    return [(rung.name, rung.width, rung.height) for rung in rungs]


class TestRungPlan:
    def test_a_landscape_source_gets_the_standard_sizes_at_or_below_it(self):
        assert sizes(plan_rungs(3840, 2160)) == [
            ("1080p", 1920, 1080),
            ("720p", 1280, 720),
            ("480p", 854, 480),
        ]

    def test_a_portrait_source_is_sized_by_its_short_side(self):
        assert sizes(plan_rungs(1080, 1920)) == [
            ("1080p", 1080, 1920),
            ("720p", 720, 1280),
            ("480p", 480, 854),
        ]

    def test_no_rung_is_bigger_than_the_source(self):
        assert sizes(plan_rungs(640, 360)) == [("360p", 640, 360), ("240p", 426, 240)]
        # 719 lines: 720p would be an upscale.
        assert sizes(plan_rungs(1280, 719)) == [
            ("480p", 854, 480),
            ("360p", 640, 360),
            ("240p", 428, 240),
        ]

    def test_max_renditions_keeps_the_biggest(self):
        five = plan_rungs(1920, 1080, LadderSettings(max_renditions=5))
        assert [rung.name for rung in five] == ["1080p", "720p", "480p", "360p", "240p"]
        one = plan_rungs(1920, 1080, LadderSettings(max_renditions=1))
        assert sizes(one) == [("1080p", 1920, 1080)]

    def test_a_source_below_240_gets_one_rung_at_its_own_even_size(self):
        assert sizes(plan_rungs(200, 150)) == [("150p", 200, 150)]
        assert sizes(plan_rungs(143, 175)) == [("142p", 142, 174)]

    def test_the_big_rung_takes_the_faster_preset_and_every_rung_is_capped(self):
        rungs = plan_rungs(1920, 1080)
        assert [rung.preset for rung in rungs] == ["ultrafast", "veryfast", "veryfast"]
        assert [rung.maxrate_kbps for rung in rungs] == [5000, 2800, 1400]

    def test_an_empty_picture_has_no_ladder(self):
        with pytest.raises(ValueError):
            plan_rungs(0, 720)

    def test_a_folder_the_muxer_would_read_as_a_pattern_is_refused(self, tmp_path):
        with pytest.raises(ValueError):
            ladder_plan.hls_muxer_options(tmp_path / "100%d", 30, 180)
        options = ladder_plan.hls_muxer_options(tmp_path, 30, 180)
        assert options["hls_segment_filename"] == str(tmp_path / "seg_%05d.ts")
        assert float(options["hls_time"]) == pytest.approx(179.5 / 30)

    @pytest.mark.parametrize(
        ("rate", "frames"), [(30, 180), (25, 150), (NTSC, 144), (Fraction(30000, 1001), 180)]
    )
    def test_a_segment_is_six_seconds_of_whole_frames(self, rate, frames):
        assert ladder_plan.segment_frames(rate) == frames
