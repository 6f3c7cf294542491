"""A PATCH's body, streamed into GridFS chunks as it arrives (docs/uploads.md).

Memory is bounded whatever the PATCH's size: the body is read in pieces of READ_SIZE and
at most a batch of chunks (INSERT_BATCH_CHUNKS, ~4 MB) waits to be written. Chunks are
written first, then the offset moved (a compare-and-set naming the lease), so the offset
never counts a byte that is not stored; a crash between the two leaves chunks past the
offset, which the next PATCH drops (models.tus_chunks.rewind).

A body cut off mid-way keeps what arrived (the client resumes from HEAD's offset), unless it
carried an Upload-Checksum, which can then not be checked: a PATCH with a checksum moves
the offset only once the whole body matched it, and otherwise its bytes are dropped (460).
"""

import collections
import contextlib
import hashlib
import threading

from werkzeug.exceptions import ClientDisconnected

from models import tus_chunks
from models import tus_upload as uploads
from models.common import utcnow
from models.media_file import CHUNK_SIZE, INSERT_BATCH_CHUNKS
from services.errors import Conflict, InvalidInput, ServiceError

READ_SIZE = 64 * 1024
BATCH_BYTES = CHUNK_SIZE * INSERT_BATCH_CHUNKS
KEPT_DIGESTS = 256  # uploads whose running sha256 this process keeps (a few hundred bytes each)


class ChecksumMismatch(ServiceError):
    status = 460
    code = "checksum_mismatch"
    message = "Upload-Checksum does not match the body; its bytes were not kept."


class LeaseLost(Conflict):
    code = "upload_busy"
    message = "This PATCH took too long between bytes and another one took over the upload."


class TooLong(InvalidInput):
    code = "exceeds_upload_length"
    message = "The body goes past Upload-Length."


class _Digests:
    """The running sha256 of the uploads this process last stored bytes of, at their offset.

    The whole file's sha256 is the video's ``source_sha256``. hashlib's state cannot be stored
    in MongoDB, and the next PATCH may reach another process: when the final one reaches the
    process that kept the digest at its offset, the file is not read again to hash it; any
    other way, it is (models.tus_chunks.sha256)."""

    def __init__(self):
        self._kept = collections.OrderedDict()
        self._lock = threading.Lock()

    def take(self, upload_id, offset):
        """A copy of the digest at ``offset``, or None (another process moved the upload)."""
        with self._lock:
            kept = self._kept.get(upload_id)
        return kept[1].copy() if kept is not None and kept[0] == offset else None

    def keep(self, upload_id, offset, digest):
        with self._lock:
            self._kept[upload_id] = (offset, digest)
            self._kept.move_to_end(upload_id)
            while len(self._kept) > KEPT_DIGESTS:
                self._kept.popitem(last=False)

    def pop(self, upload_id, offset):
        """The hex digest at ``offset`` (the end), forgotten; None when not kept here."""
        with self._lock:
            kept = self._kept.pop(upload_id, None)
        return kept[1].hexdigest() if kept is not None and kept[0] == offset else None


digests = _Digests()


def append(upload, token, stream, content_length, checksum):
    """Store the body of ``stream`` at the upload's offset; returns the new offset.

    ``checksum``: None, or the sha1 digest (bytes) the body must have."""
    writer = _Writer(upload, token, deferred=checksum is not None)
    digest = hashlib.sha1() if checksum is not None else None
    whole = digests.take(upload["_id"], upload["offset"])  # the file's sha256 so far
    if whole is None and upload["offset"] == 0:
        whole = hashlib.sha256()
    try:
        for piece in _pieces(stream, upload["length"] - upload["offset"], content_length):
            if digest is not None:
                digest.update(piece)
            if whole is not None:
                whole.update(piece)
            writer.add(piece)
    except (ClientDisconnected, OSError):
        # The client is gone and reads no answer: keep what arrived (unless unverifiable).
        if writer.deferred:
            writer.discard()
        else:
            _keep(upload, writer.close(), whole)
        raise ClientDisconnected() from None
    except BaseException:
        # The offset is the truth and stands where it was last moved; what lies past it is
        # dropped by the next PATCH. A checksummed one drops its own bytes now, if it can.
        if writer.deferred:
            writer.discard_quietly()
        raise
    if digest is not None and digest.digest() != checksum:
        writer.discard()
        raise ChecksumMismatch()
    return _keep(upload, writer.close(), whole)


def _keep(upload, offset, whole):
    if whole is not None:
        digests.keep(upload["_id"], offset, whole)
    return offset


def _pieces(stream, room, content_length):
    """The body in pieces, at most ``room`` bytes (TooLong past it); OSError when it ends
    before its Content-Length (a server that does not say so itself: gunicorn)."""
    received = 0
    while True:
        piece = stream.read(READ_SIZE)
        if not piece:
            break
        received += len(piece)
        if received > room:
            raise TooLong()
        yield piece
    if content_length is not None and received < content_length:
        raise OSError("the body ended before its Content-Length")


class _Writer:
    """Chunks of the body, written a batch at a time from the upload's offset on."""

    def __init__(self, upload, token, deferred):
        self.upload_id, self.file_id, self.token = upload["_id"], upload["file_id"], token
        self.length = upload["length"]
        self.deferred = deferred  # the offset moves only at close(): a checksum is due
        self.start = self.committed = upload["offset"]
        self.original = tus_chunks.rewind(self.file_id, self.start)
        self.buffer = bytearray(self.original)  # the partial chunk's bytes, completed here
        self.number = self.start // CHUNK_SIZE  # the chunk the buffer starts
        self.replace_first = bool(self.original)  # that chunk exists: replaced, not inserted
        self.renewed = utcnow()

    @property
    def position(self):
        return self.number * CHUNK_SIZE + len(self.buffer)

    def add(self, piece):
        self.buffer += piece
        if len(self.buffer) >= BATCH_BYTES:
            self._write(INSERT_BATCH_CHUNKS)

    def close(self):
        """Write what is left (a partial last chunk too) and move the offset to it."""
        end = self.position
        self._write(-(-len(self.buffer) // CHUNK_SIZE))
        if self.deferred:
            self._advance(end)
        return end

    def discard_quietly(self):
        with contextlib.suppress(Exception):  # the database away: the next PATCH rewinds
            self.discard()

    def discard(self):
        """Put the upload back as it was (deferred: the offset never moved), chunks only."""
        tus_chunks.rewind(self.file_id, self.start)
        if self.original:
            number = self.start // CHUNK_SIZE
            tus_chunks.insert(self.file_id, number, [self.original], replace_first=True)

    def _write(self, count):
        if count == 0:
            return
        pieces = [self.buffer[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE] for i in range(count)]
        self._hold_lease()
        tus_chunks.insert(self.file_id, self.number, pieces, self.replace_first)
        written = sum(len(piece) for piece in pieces)
        self.number += len(pieces)
        self.replace_first = False
        del self.buffer[:written]
        if len(pieces[-1]) < CHUNK_SIZE:  # the partial last chunk: the buffer starts it again
            self.number -= 1
            self.buffer[:0] = pieces[-1]
            self.replace_first = True
        if not self.deferred:
            self._advance(self.position)

    def _hold_lease(self):
        """Renew the lease before writing if the body took long to come: a client that paused
        past it may have been taken over, and then writes nothing."""
        if utcnow() - self.renewed > uploads.LEASE / 4:
            if not uploads.renew(self.upload_id, self.token):
                raise LeaseLost()
            self.renewed = utcnow()

    def _advance(self, offset):
        if offset == self.committed:
            return
        complete = offset == self.length
        if not uploads.advance(self.upload_id, self.token, self.committed, offset, complete):
            raise LeaseLost()
        self.committed, self.renewed = offset, utcnow()
