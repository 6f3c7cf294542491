"""Thumbnails: the best of several candidate frames, as JPEG.

Candidates are taken at spread-out points of the video; each is scored by
sharpness (variance of the Laplacian) and rejected when nearly black or
nearly uniform (fades, title cards), so the thumbnail is a real picture.

PyAV decodes (opened like every upload, locked to the file and to real media
containers); OpenCV only scores and encodes, so it never opens the file
itself. Each candidate is scaled down to thumbnail size as soon as it is
decoded and only the best so far is kept: memory does not grow with the
picture size or the number of candidates.
"""

import av
import cv2
import numpy as np

from services.media.limits import DEFAULT_LIMITS
from services.media.opening import open_media

CANDIDATE_POSITIONS = (0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9)
DARK_MEAN = 20  # of 255: a frame darker than this on average counts as black
FLAT_STDDEV = 8  # a frame with less contrast than this is a fade or a plain card
MAX_WIDTH = 640
JPEG_QUALITY = 85
DECODER_THREADS = 2


class NoThumbnail(Exception):
    """No frame of the video could be read."""


def sharpness(frame):
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def is_blank(frame):
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return float(gray.mean()) < DARK_MEAN or float(gray.std()) < FLAT_STDDEV


def candidate_frames(path, limits=DEFAULT_LIMITS):
    """Thumbnail-sized BGR pictures at spread-out points of the video, one at a time."""
    with open_media(path) as container:
        stream = next((s for s in container.streams.video if not _is_cover_art(s)), None)
        if stream is None:
            return
        # Each candidate decodes from the keyframe before it: with two frame threads a
        # 60 s 1080p upload's seven candidates took 5.2 s instead of 7.5 s (same picture).
        # Two, not FFmpeg's choice by core count: every thread's frames count against the
        # child's RLIMIT_AS.
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = DECODER_THREADS
        seconds = _seconds(container, stream)
        targets = [seconds * p for p in CANDIDATE_POSITIONS] if seconds else [0.0]
        for target in targets:
            frame = _frame_at(container, stream, target)
            if frame is None:
                continue
            limits.check_picture(frame.width, frame.height)  # the header may have lied
            yield _thumbnail_sized(frame)


def _is_cover_art(stream):
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _seconds(container, stream):
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return container.duration / av.time_base if container.duration else 0.0


def _frame_at(container, stream, target):
    """The first frame at or after ``target`` seconds (the last one when the video ends first)."""
    container.seek(int(target / stream.time_base), stream=stream, backward=True)
    found = None
    for frame in container.decode(stream):
        found = frame
        if frame.time is None or frame.time >= target:
            break
    return found


def _thumbnail_sized(frame):
    width = min(frame.width, MAX_WIDTH)
    height = max(2, round(frame.height * width / frame.width))
    return frame.reformat(width=width, height=height, format="bgr24").to_ndarray()


def best_frame(frames):
    """The sharpest frame that is not blank; the sharpest of all if every one is.

    Holds only the best so far: ``frames`` may be a generator of many."""
    best = best_key = None
    for index, frame in enumerate(frames):
        key = (not is_blank(frame), sharpness(frame), index)
        if best_key is None or key > best_key:
            best, best_key = frame, key
    if best is None:
        raise NoThumbnail("no frame could be read")
    return best


def to_jpeg(frame):
    height, width = frame.shape[:2]
    if width > MAX_WIDTH:
        frame = cv2.resize(
            frame, (MAX_WIDTH, int(height * MAX_WIDTH / width)), interpolation=cv2.INTER_AREA
        )
    ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise NoThumbnail("JPEG encoding failed")
    return np.asarray(encoded).tobytes()


def thumbnail_jpeg(path, limits=DEFAULT_LIMITS):
    return to_jpeg(best_frame(candidate_frames(path, limits)))
