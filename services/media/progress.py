"""How far a processing job is: a stage and a fraction of the whole job, for the status route.

The job goes through the stages of ``STAGES`` in order (a video stored as it is skips
``rendition``; audio skips ``thumbnail`` and ``hls``). Each stage owns a slice of the bar,
its weight being roughly its share of the work on a video that is transcoded; within a stage the
step reports the fraction it has done (frames encoded over frames expected). The parent
writes what it hears to the video document (conditional on its lease) at most once a
second within a stage, and at each new stage: a 4-hour transcode is a few thousand small
updates, not one per frame.
"""

import time

# (stage, weight): weights add up to 1. The sandbox child does probe, rendition, thumbnail;
# the parent downloads the source from GridFS before and stores what was made after. Then
# the HLS ladder: a second child encodes its rungs, the parent encrypts and stores them.
STAGES = (
    ("download", 0.03),
    ("probe", 0.02),
    ("rendition", 0.35),
    ("thumbnail", 0.03),
    ("store", 0.07),
    ("hls", 0.50),
)
NAMES = tuple(name for name, _ in STAGES)
QUEUED = "queued"  # processing, but no job has the video yet
STATUS_STAGES = (QUEUED, *NAMES)
MIN_INTERVAL = 1.0  # seconds between two writes within a stage
MIN_STEP = 0.01  # and only when the bar moved by a percent at least


def _starts():
    starts, total = {}, 0.0
    for name, weight in STAGES:
        starts[name] = (total, weight)
        total += weight
    return starts


_SLICES = _starts()


def overall(stage, done=0.0):
    """The fraction of the whole job once ``stage`` is ``done`` (0-1) through."""
    start, weight = _SLICES[stage]
    return round(min(1.0, start + weight * min(max(done, 0.0), 1.0)), 4)


class Progress:
    """Called as ``progress(stage, done)``; writes through ``lease.report`` when due.

    Never goes back: a step that reports less than before (a second pass) keeps the bar.
    """

    def __init__(self, lease, clock=time.monotonic):
        self.lease, self.clock = lease, clock
        self.stage, self.value, self.written_at = None, 0.0, None

    def __call__(self, stage, done=0.0):
        if stage not in _SLICES:  # a child newer than this parent: not worth failing a job
            return
        value = max(self.value, overall(stage, done))
        now = self.clock()
        if stage == self.stage and not self._due(value, now):
            return
        self.stage, self.value, self.written_at = stage, value, now
        self.lease.report(stage, value)

    def _due(self, value, now):
        return now - self.written_at >= MIN_INTERVAL and value - self.value >= MIN_STEP


def shown(video):
    """``stage`` and ``progress`` of ``video`` for the status route: null unless processing."""
    if video.get("status") != "processing":
        return {"stage": None, "progress": None}
    return {"stage": video.get("stage") or QUEUED, "progress": video.get("progress") or 0.0}
