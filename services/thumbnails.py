"""Thumbnails with OpenCV: the best of several candidate frames, as JPEG.

Candidates are taken at spread-out points of the video; each is scored by
sharpness (variance of the Laplacian) and rejected when nearly black or
nearly uniform (fades, title cards), so the thumbnail is a real picture.
"""

import cv2
import numpy as np

CANDIDATE_POSITIONS = (0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9)
DARK_MEAN = 20  # of 255: a frame darker than this on average counts as black
FLAT_STDDEV = 8  # a frame with less contrast than this is a fade or a plain card
MAX_WIDTH = 640
JPEG_QUALITY = 85


class NoThumbnail(Exception):
    """No frame of the video could be read."""


def sharpness(frame):
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def is_blank(frame):
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return float(gray.mean()) < DARK_MEAN or float(gray.std()) < FLAT_STDDEV


def candidate_frames(path):
    capture = cv2.VideoCapture(str(path))
    try:
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or 0
        positions = [int(count * p) for p in CANDIDATE_POSITIONS] if count > 1 else [0]
        for position in sorted(set(positions)):
            capture.set(cv2.CAP_PROP_POS_FRAMES, position)
            ok, frame = capture.read()
            if ok and frame is not None:
                yield frame
    finally:
        capture.release()


def best_frame(frames):
    """The sharpest frame that is not blank; the sharpest of all if every one is."""
    scored = [
        (not is_blank(frame), sharpness(frame), index, frame) for index, frame in enumerate(frames)
    ]
    if not scored:
        raise NoThumbnail("no frame could be read")
    return max(scored, key=lambda item: item[:3])[3]


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


def thumbnail_jpeg(path):
    return to_jpeg(best_frame(list(candidate_frames(path))))
