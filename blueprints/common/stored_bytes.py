"""The bytes of a stored file (GridFS) for a byte route: from the media cache's verified local
copy when this host has one, from GridFS otherwise, asking the cache for a copy.

The answer (ranges, validators, 304, 416) is web/media_response.py's either way: a
``LocalCopy`` reads a range as MediaChunks does, so only where the bytes come from changes.
"""

import os

from flask import current_app, request

from extensions import media_chunks
from services.media_cache import MediaCacheComponent
from web import media_response
from web.file_body import file_response

PIECE = 256 * 1024  # bytes per read of a local copy (a GridFS chunk's size)


def serve(playable):
    """media_response.serve of ``playable`` (a services.playback.Playable of a GridFS file)."""
    cache = MediaCacheComponent.of(current_app)
    copy = cache.lookup(playable.file, playable.sha256)
    if copy is None:
        cache.want(playable.file, playable.sha256, media_chunks.read)
        return media_response.serve(playable, media_chunks)
    try:
        response = media_response.serve(playable, LocalCopy(copy))
    except BaseException:
        copy.close()
        raise
    response.call_on_close(copy.close)  # after the last byte, or when the client hangs up
    return response


class LocalCopy:
    """Reads ranges of one open cached copy, as MediaChunks reads them from GridFS; one range
    (or the whole file) is answered with the copy itself, which the server sends with the
    kernel's sendfile (web/file_body.py, web/http_worker/)."""

    def __init__(self, copy):
        self.copy = copy

    def respond(self, byte_range, status, headers, content_type):
        return file_response(
            request.environ,
            self.copy,
            byte_range.start,
            byte_range.length,
            status,
            headers,
            content_type,
        )

    def read(self, file_doc, start, end):
        """Bytes ``start``..``end`` (inclusive) in pieces; ``pread`` leaves the file's offset
        alone, so the parts of a multipart answer never disturb one another."""
        fd, position = self.copy.fileno(), start
        while position <= end:
            piece = os.pread(fd, min(PIECE, end - position + 1), position)
            if not piece:  # shorter than verified: the stamp check makes this unreachable
                raise OSError(f"cached copy ended at byte {position}")
            position += len(piece)
            yield piece
