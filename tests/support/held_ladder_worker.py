"""``python -m tests.support.held_ladder_worker MARKER [worker.py arguments]``: worker.py whose
job stops in the middle of its HLS ladder.

The first encrypted segment is stored (with the ladder's key before it), then the store
writes the video id to MARKER and waits until the worker is stopping; SIGKILL ends the wait
for good. So a test kills a worker mid-ladder, with a key and a segment in the database that
no published ladder names, at a known point instead of a moment guessed by a clock.
"""

import sys
from pathlib import Path

from flask import current_app

import worker
from models import media_file
from services.media import hls_store


def hold_after_the_first_segment(marker):
    real_store, stored = media_file.store, []

    def held(path, filename, content_type, metadata=None):
        found = real_store(path, filename, content_type, metadata)
        if content_type == hls_store.SEGMENT_TYPE and not stored:
            stored.append(filename)
            Path(marker).write_text(str(metadata["video_id"]))
            current_app.extensions["media_jobs"].stopping.wait()
        return found

    media_file.store = held


if __name__ == "__main__":
    hold_after_the_first_segment(sys.argv[1])
    sys.exit(worker.main(sys.argv[2:]))
