"""The ladder's outputs: per rung, a libx264 encoder feeding FFmpeg's ``hls`` muxer.

services.media.ladder decodes the source once and hands every picture to
``Outputs.encode_picture``, which scales it to each rung and encodes it with
the same frame index and, every ``gop`` frames, a forced IDR frame: the
keyframes, hence the segment cuts, are at the same instants in every rung.
The sound is encoded once and its packets copied into every rung.
"""

from fractions import Fraction

import av

from services.media import ladder_plan as plans
from services.media import ladder_segments as segments

INTERPOLATION = "AREA"  # the cheapest good downscaler measured (4 ms a 1080p frame to 720+480)
I_FRAME = av.video.frame.PictureType.I
ANY_FRAME = av.video.frame.PictureType.NONE


class RungOutput:
    """One rung: its libx264 encoder feeding its own ``hls`` muxer."""

    def __init__(self, rung, folder, rate, gop, settings):
        self.rung, self.folder = rung, folder
        self.avc = None  # avc1.PPCCLL, from the first SPS the encoder makes
        folder.mkdir(parents=True)
        options = plans.hls_muxer_options(folder, rate, gop)
        self.container = av.open(str(folder / segments.MUXER_PLAYLIST), "w", "hls", options=options)
        self.video = self.container.add_stream("libx264", rate=rate)
        self.video.width, self.video.height, self.video.pix_fmt = rung.width, rung.height, "yuv420p"
        self.video.options = plans.x264_options(rung, gop, settings)
        # Through the context: PyAV 18 drops a "threads" option.
        self.video.codec_context.thread_count = settings.x264_threads
        self.audio = None

    def encode(self, frame):
        """Encode ``frame`` (None to flush) and mux what comes out."""
        for packet in self.video.encode(frame):
            if self.avc is None:
                # The hls muxer asks for global headers: the SPS is in the extradata
                # (the mpegts muxer repeats it before each IDR), else in-band.
                extradata = self.video.codec_context.extradata or b""
                self.avc = segments.avc_codec(extradata + bytes(packet))
            self.container.mux(packet)

    def mux_audio_copy(self, packet, data):
        copy = av.Packet(data)
        copy.pts, copy.dts, copy.duration = packet.pts, packet.dts, packet.duration
        copy.time_base, copy.stream = packet.time_base, self.audio
        self.container.mux(copy)


class Outputs:
    """Every rung's output, and the one AAC encoder whose packets they all share."""

    def __init__(self, root, rungs, rate, gop, settings):
        self.time_base, self.gop = 1 / Fraction(rate), gop
        self.outputs, self.audio_encoder = [], None
        try:
            for rung in rungs:
                self.outputs.append(RungOutput(rung, root / rung.name, rate, gop, settings))
        except BaseException:
            self.close(failing=True)
            raise

    def add_audio(self, bit_rate):
        first = self.outputs[0]
        encoder = first.container.add_stream("aac", rate=plans.AUDIO_SAMPLE_RATE)
        encoder.layout, encoder.bit_rate = "stereo", bit_rate
        # A template copies codec parameters that only exist once the encoder is open:
        # made earlier, the copies get an empty AAC config and broken ADTS headers.
        first.container.start_encoding()
        first.audio = self.audio_encoder = encoder
        for output in self.outputs[1:]:
            output.audio = output.container.add_stream_from_template(encoder)

    def encode_picture(self, frame, index):
        kind = I_FRAME if index % self.gop == 0 else ANY_FRAME
        for output in self.outputs:
            scaled = frame.reformat(
                width=output.video.width,
                height=output.video.height,
                format="yuv420p",
                interpolation=INTERPOLATION,
            )
            scaled.pts, scaled.time_base, scaled.pict_type = index, self.time_base, kind
            output.encode(scaled)

    def encode_sound(self, frame):
        for packet in self.audio_encoder.encode(frame):
            data = bytes(packet)
            for output in self.outputs:
                output.mux_audio_copy(packet, data)

    def flush(self):
        for output in self.outputs:
            output.encode(None)
        if self.audio_encoder is not None:
            self.encode_sound(None)

    def close(self, failing=False):
        """Close every muxer (each writes its playlist then); the first error is raised,
        unless the ladder is failing already and the first failure is what matters."""
        errors = []
        for output in self.outputs:
            try:
                output.container.close()
            except av.FFmpegError as error:
                errors.append(error)
        if errors and not failing:
            raise errors[0]

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        self.close(failing=kind is not None)
