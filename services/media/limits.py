"""What a media file may claim, checked before anything is decoded.

A container's fields are written by whoever made the file: a 55 KB MP4 can
say it lasts thousands of years, a 200 KB one that its frames are 8192x8192.
So dimensions and frame rates are checked from the stream headers before a
frame is decoded, and the duration kept is the one the packets themselves
span (read without decoding), checked against the frame count, the audio
sample count and every duration the headers claim.
"""

from dataclasses import dataclass

import av

# One frame shown longer than this on average is not a video, whatever its timestamps say.
MAX_SECONDS_PER_FRAME = 60
# Rates are only measured from packets over at least this long a span (short ones are noisy).
RATE_MEASURE_SECONDS = 1.0


class OutOfBounds(Exception):
    """The file claims, or contains, something absurd or inconsistent."""


@dataclass(frozen=True)
class MediaLimits:
    max_seconds: float = 12 * 3600
    max_dimension: int = 4096
    max_pixels: int = 4096 * 2160
    max_frame_rate: float = 240

    @classmethod
    def from_config(cls, config):
        return cls(
            max_seconds=config["MAX_MEDIA_DURATION_HOURS"] * 3600,
            max_dimension=config["MAX_VIDEO_DIMENSION"],
            max_pixels=config["MAX_VIDEO_PIXELS"],
            max_frame_rate=config["MAX_FRAME_RATE"],
        )

    def check_picture(self, width, height):
        if width > self.max_dimension or height > self.max_dimension:
            raise OutOfBounds(
                f"a {width}x{height} picture is over the limit of {self.max_dimension} px a side"
            )
        if width * height > self.max_pixels:
            raise OutOfBounds(
                f"a {width}x{height} picture is over the limit of {self.max_pixels} pixels"
            )

    def check_frame_rate(self, rate):
        if rate > self.max_frame_rate:
            limit = self.max_frame_rate
            raise OutOfBounds(f"{rate:.0f} frames a second is over the limit of {limit:g}")

    def check_seconds(self, seconds, what):
        if seconds > self.max_seconds:
            raise OutOfBounds(
                f"{what} {seconds:.0f} s, over the limit of {self.max_seconds / 3600:g} hours"
            )


DEFAULT_LIMITS = MediaLimits()


def check_headers(container, limits):
    """Every video stream's size and rate, from its header (nothing decoded yet)."""
    for stream in container.streams.video:
        context = stream.codec_context
        limits.check_picture(context.width, context.height)
        if stream.average_rate:
            limits.check_frame_rate(float(stream.average_rate))
    for seconds in claimed_durations(container):
        limits.check_seconds(seconds, "the file claims to last")


def claimed_durations(container, streams=None):
    """Every duration the container and stream headers state, in seconds."""
    claims = []
    if container.duration:
        claims.append(container.duration / av.time_base)
    for stream in container.streams if streams is None else streams:
        if stream.duration and stream.time_base:
            claims.append(float(stream.duration * stream.time_base))
    return claims


class _Span:
    """First and last instant, and packet count, of one stream's packets (in its ticks)."""

    def __init__(self, stream, limits):
        self.stream = stream
        self.start = self.end = None
        self.packets = 0
        # The cap in the stream's own ticks: one integer comparison per packet.
        self.max_ticks = int(limits.max_seconds / stream.time_base)
        self.limits = limits

    def add(self, time, duration):
        self.packets += 1
        end = time + (duration or 0)
        if self.start is None:
            self.start, self.end = time, end
        if time < self.start:
            self.start = time
        if end > self.end:
            self.end = end
        if self.end - self.start > self.max_ticks:
            self.limits.check_seconds(self.seconds, "its timestamps run for")

    @property
    def seconds(self):
        if self.start is None:
            return 0.0
        return float((self.end - self.start) * self.stream.time_base)


def trusted_duration(container, streams, limits):
    """Seconds the packets of ``streams`` span, refused when absurd or when the headers,
    frame count or audio sample count disagree. Reads packets, decodes nothing."""
    spans = {stream.index: _Span(stream, limits) for stream in streams}
    for packet in container.demux(*streams):
        time = packet.pts if packet.pts is not None else packet.dts
        if time is not None:  # the flushing packet at the end has neither
            spans[packet.stream_index].add(time, packet.duration)
    for span in spans.values():
        if span.stream.type == "video":
            _check_frames(span, limits)
        else:
            _check_samples(span)
    seconds = max((span.seconds for span in spans.values()), default=0.0)
    _check_claims(container, streams, seconds)
    return round(seconds, 3)


def _check_frames(span, limits):
    if span.packets >= 2 and span.seconds / span.packets > MAX_SECONDS_PER_FRAME:
        raise OutOfBounds(f"{span.packets} frames cannot last {span.seconds:.0f} s")
    if span.seconds >= RATE_MEASURE_SECONDS:
        limits.check_frame_rate(span.packets / span.seconds)


def _check_samples(span):
    """Audio codecs with a fixed frame size (AAC 1024, MP3 1152): timestamps vs samples."""
    context = span.stream.codec_context
    if not context.frame_size or not context.sample_rate:
        return
    sampled = span.packets * context.frame_size / context.sample_rate
    if span.seconds > sampled * 1.5 + 1:
        raise OutOfBounds(
            f"its audio timestamps run for {span.seconds:.0f} s "
            f"but its samples last {sampled:.0f} s"
        )


def _check_claims(container, streams, seconds):
    """A header may round or trim, not claim far more time than the packets hold."""
    for claim in claimed_durations(container, streams):
        if claim > max(2 * seconds, seconds + 60):
            raise OutOfBounds(
                f"the file claims to last {claim:.0f} s but its packets last {seconds:.0f} s"
            )
