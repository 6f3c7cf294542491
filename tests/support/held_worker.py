"""``python -m tests.support.held_worker MARKER [worker.py arguments]``: worker.py whose first
thumbnail store waits.

The job has stored its rendition by then (a file no document references yet), so a test
can kill the worker at a known point of a job instead of at a moment guessed by a clock.
The held store writes the video id to MARKER, then waits until the worker is stopping
(SIGTERM, after its drain) and goes on, so a stopping worker abandons the job at its next
checkpoint; SIGKILL ends the wait for good. Later thumbnails are stored untouched.
"""

import sys
from pathlib import Path

from flask import current_app

import worker
from models import media_file


def hold_the_first_thumbnail(marker):
    real_store_bytes, calls = media_file.store_bytes, []

    def held(data, filename, content_type, metadata=None):
        calls.append(filename)
        if len(calls) == 1:
            Path(marker).write_text(str(metadata["video_id"]))
            current_app.extensions["media_jobs"].stopping.wait()
        return real_store_bytes(data, filename, content_type, metadata)

    media_file.store_bytes = held


if __name__ == "__main__":
    hold_the_first_thumbnail(sys.argv[1])
    sys.exit(worker.main(sys.argv[2:]))
