"""Upload bodies go straight to a temporary file on disk, never to memory.

werkzeug's form parser asks the request for a file object for each uploaded
part; we hand it a NamedTemporaryFile (deleted when closed) so the probe can
read it by path and GridFS can copy it in chunks, with no second copy.
"""

import tempfile

from flask import Request


class SpoolToDiskRequest(Request):
    def _get_file_stream(
        self, total_content_length, content_type, filename=None, content_length=None
    ):
        return tempfile.NamedTemporaryFile(prefix="upload-", suffix=".part")


def allow_large_body(view):
    """Mark a view whose body may exceed the JSON limit (up to MAX_UPLOAD_MB)."""
    view.large_body = True
    return view
