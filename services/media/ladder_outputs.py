"""The ladder's outputs: per rung, a thread running libx264 into FFmpeg's ``hls`` muxer.

services.media.ladder decodes the source once and hands every picture to
``Outputs.encode_picture``, which queues it to every rung's thread; there it
is scaled to the rung and encoded with the same frame index and, every
``gop`` frames, a forced IDR frame: the keyframes, hence the segment cuts,
are at the same instants in every rung. The sound is encoded once (in the
decoding thread) and its packets copied into every rung through the same
queue, so each muxer is only ever touched by its rung's thread.

PyAV 18 releases the GIL while it scales, encodes and muxes, so the rungs
run side by side: one after another in the decoding loop, the child used
1.3-1.5 of 2 cores (bench/hls.py, 60 s 1080p, 2026-11-29).
"""

import queue
import threading
from fractions import Fraction

import av
from av.video.reformatter import VideoReformatter

from services.media import ladder_plan as plans
from services.media import ladder_segments as segments

INTERPOLATION = "AREA"  # the cheapest good downscaler measured (4 ms a 1080p frame to 720+480)
I_FRAME = av.video.frame.PictureType.I
ANY_FRAME = av.video.frame.PictureType.NONE
# Pictures waiting for a rung: a 1080p picture is 3 MB, and a deeper queue only
# lets the decoder run further ahead of the slowest rung, it does not speed it up.
QUEUE_DEPTH = 4
WAKE_SECONDS = 0.5  # how often a blocked put or get looks whether the other side died
FLUSH = object()  # the queue's last item: drain the encoder


class RungFailed(Exception):
    """A rung's thread stopped without its error (it cannot happen: a bug)."""


class RungOutput:
    """One rung: its thread, scaling and encoding with libx264 into its own ``hls`` muxer."""

    def __init__(self, rung, folder, rate, gop, settings):
        self.rung, self.folder = rung, folder
        self.time_base, self.gop = 1 / Fraction(rate), gop
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
        # Its own scaler: two threads scaling through one SwsContext (a frame's cached
        # reformatter) hang.
        self.scaler = VideoReformatter()
        self.queue = queue.Queue(QUEUE_DEPTH)
        self.error, self.stopping = None, threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"rung-{rung.name}", daemon=True)

    def start(self):
        self.thread.start()

    def put(self, item):
        """Queue ``item`` for the rung's thread; the rung's error if it died meanwhile."""
        while True:
            self.raise_error()
            try:
                self.queue.put(item, timeout=WAKE_SECONDS)
                return
            except queue.Full:
                continue

    def raise_error(self):
        if self.error is not None:
            raise self.error
        if self.thread.ident is not None and not self.thread.is_alive():
            raise RungFailed(f"rung {self.rung.name} stopped early")

    def finish(self):
        """Wait for the rung's thread to drain and flush; its error, if any."""
        self.put(FLUSH)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def stop(self):
        """Make the thread give up (the ladder failed elsewhere) and wait for it."""
        self.stopping.set()
        if self.thread.ident is not None:
            self.thread.join()

    def _run(self):
        try:
            while not self._handle(self._next()):
                pass
        except BaseException as error:  # handed to the decoding thread, which raises it
            self.error = error

    def _next(self):
        while not self.stopping.is_set():
            try:
                return self.queue.get(timeout=WAKE_SECONDS)
            except queue.Empty:
                continue
        return None  # stop without flushing: the ladder is thrown away

    def _handle(self, item):
        """Do one queued item; True when the rung is done."""
        if item is None:
            return True
        if item is FLUSH:
            self.encode(None)
            return True
        if isinstance(item, av.Packet):
            item.stream = self.audio
            self.container.mux(item)
            return False
        frame, index = item
        self.encode(self._scaled(frame, index))
        return False

    def _scaled(self, frame, index):
        scaled = self.scaler.reformat(
            frame,
            width=self.rung.width,
            height=self.rung.height,
            format="yuv420p",
            interpolation=INTERPOLATION,
        )
        scaled.pts, scaled.time_base = index, self.time_base
        scaled.pict_type = I_FRAME if index % self.gop == 0 else ANY_FRAME
        return scaled

    def encode(self, frame):
        """Encode ``frame`` (None to flush) and mux what comes out."""
        for packet in self.video.encode(frame):
            if self.avc is None:
                # The hls muxer asks for global headers: the SPS is in the extradata
                # (the mpegts muxer repeats it before each IDR), else in-band.
                extradata = self.video.codec_context.extradata or b""
                self.avc = segments.avc_codec(extradata + bytes(packet))
            self.container.mux(packet)


def _audio_copy(packet, data):
    """A packet of its own for one rung: the muxer takes over the packet it is given."""
    copy = av.Packet(data)
    copy.pts, copy.dts, copy.duration = packet.pts, packet.dts, packet.duration
    copy.time_base = packet.time_base
    return copy


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

    def start(self):
        """Start the rungs' threads, once every stream is added (add_audio)."""
        for output in self.outputs:
            output.start()

    def encode_picture(self, frame, index):
        for output in self.outputs:
            output.put((frame, index))

    def encode_sound(self, frame):
        for packet in self.audio_encoder.encode(frame):
            data = bytes(packet)
            for output in self.outputs:
                output.put(_audio_copy(packet, data))

    def flush(self):
        if self.audio_encoder is not None:
            self.encode_sound(None)
        for output in self.outputs:
            output.finish()

    def close(self, failing=False):
        """Close every muxer (each writes its playlist then); the first error is raised,
        unless the ladder is failing already and the first failure is what matters."""
        errors = []
        for output in self.outputs:
            output.stop()  # no muxer is closed while its thread may still use it
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
