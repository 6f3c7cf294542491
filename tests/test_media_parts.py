"""Probe, renditions and thumbnails on real files made on the fly."""

import hashlib

import av
import cv2
import numpy as np
import pytest

from demo import synthetic_media
from services.media.probe import NotMedia, probe, top_level_atoms
from services.media.renditions import AS_IS, REMUX, TRANSCODE, plan_for, remux_faststart, transcode
from services.media.thumbnails import best_frame, is_blank, thumbnail_jpeg


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("media")
    return {
        "h264_fast": synthetic_media.write_video(folder / "fast.mp4"),
        "h264_moov_end": synthetic_media.write_video(folder / "slow.mp4", faststart=False),
        "mp4v": synthetic_media.write_opencv_mp4v(folder / "opencv.mp4"),
        "vp9": synthetic_media.write_video(
            folder / "vp9.webm",
            video_codec="libvpx-vp9",
            audio_codec="libopus",
            container="webm",
        ),
        "mp3": synthetic_media.write_audio(folder / "tone.mp3"),
        "wav": synthetic_media.write_audio(folder / "tone.wav", codec="pcm_s16le"),
        "m4a_moov_end": synthetic_media.write_audio(
            folder / "tone.m4a", codec="aac", container="ipod"
        ),
        "folder": folder,
    }


def video_packets(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [bytes(p) for p in container.demux(stream) if p.size]


class TestProbe:
    def test_h264_mp4(self, media):
        info = probe(media["h264_fast"])
        assert (info.kind, info.video_codec, info.audio_codec) == ("video", "h264", "aac")
        assert (info.width, info.height, info.frame_rate) == (320, 240, 24.0)
        assert info.duration == pytest.approx(2.0, abs=0.1)
        assert info.moov_first is True and info.plays_everywhere()

    def test_moov_at_the_end_is_seen(self, media):
        atoms = top_level_atoms(media["h264_moov_end"])
        assert atoms.index("mdat") < atoms.index("moov")
        assert probe(media["h264_moov_end"]).moov_first is False

    def test_audio(self, media):
        info = probe(media["mp3"])
        assert (info.kind, info.audio_codec, info.width) == ("audio", "mp3", None)

    @pytest.mark.parametrize(
        "content",
        [
            b"hello, this is text " * 200,
            b"",
            b"\x00" * 5000,
            b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 2000,
        ],
    )
    def test_non_media_is_refused(self, tmp_path, content):
        fake = tmp_path / "video.mp4"
        fake.write_bytes(content)
        with pytest.raises(NotMedia):
            probe(fake)

    def test_a_jpeg_is_not_a_video(self, tmp_path):
        picture = tmp_path / "photo.mp4"
        picture.write_bytes(cv2.imencode(".jpg", synthetic_media.picture(1, 64, 64))[1].tobytes())
        with pytest.raises(NotMedia):
            probe(picture)


class TestRenditions:
    @pytest.mark.parametrize(
        "name, action",
        [
            ("h264_fast", AS_IS),
            ("h264_moov_end", REMUX),
            ("mp4v", TRANSCODE),
            ("vp9", TRANSCODE),
            ("mp3", AS_IS),
            ("m4a_moov_end", REMUX),
            ("wav", TRANSCODE),
        ],
    )
    def test_plan(self, media, name, action):
        assert plan_for(probe(media[name])).action == action

    def test_remux_moves_moov_first_without_reencoding(self, media, tmp_path):
        target = tmp_path / "remuxed.mp4"
        remux_faststart(media["h264_moov_end"], target)
        atoms = top_level_atoms(target)
        assert atoms.index("moov") < atoms.index("mdat")
        before = hashlib.sha256(b"".join(video_packets(media["h264_moov_end"]))).hexdigest()
        after = hashlib.sha256(b"".join(video_packets(target))).hexdigest()
        assert before == after  # the same compressed packets: copied, not re-encoded
        assert probe(target).audio_codec == "aac"

    @pytest.mark.parametrize("name", ["mp4v", "vp9"])
    def test_transcode_gives_h264_aac_faststart(self, media, tmp_path, name):
        target = tmp_path / f"{name}.mp4"
        transcode(media[name], target, "video")
        info = probe(target)
        assert info.plays_everywhere() and info.moov_first
        assert info.duration == pytest.approx(2.0, abs=0.15)
        assert (info.width, info.height) == (320, 240)
        if name == "vp9":
            assert info.audio_codec == "aac"

    def test_other_audio_becomes_aac_m4a(self, media, tmp_path):
        target = tmp_path / "tone.m4a"
        transcode(media["wav"], target, "audio")
        info = probe(target)
        assert (info.kind, info.audio_codec, info.moov_first) == ("audio", "aac", True)


class TestThumbnails:
    def test_jpeg_of_a_real_frame(self, media):
        jpeg = thumbnail_jpeg(media["h264_fast"])
        frame = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert jpeg[:3] == b"\xff\xd8\xff"
        assert frame.shape[:2] == (240, 320)
        assert not is_blank(frame)

    def test_black_frames_are_passed_over(self):
        black = np.zeros((120, 160, 3), np.uint8)
        grey = np.full((120, 160, 3), 128, np.uint8)
        real = synthetic_media.picture(5, 160, 120)
        assert best_frame([black, grey, real, black]) is real

    def test_the_sharpest_wins(self):
        sharp = synthetic_media.picture(5, 160, 120)
        blurred = cv2.GaussianBlur(sharp, (15, 15), 0)
        assert best_frame([blurred, sharp]) is sharp
