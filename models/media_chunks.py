"""Reading a byte range of a GridFS file, chunk by chunk, as streams share MongoDB.

Not with GridOut: its cursor has no batch_size and no upper ``n``, and a
server may build a query's whole result when it is opened (the embedded
server does: bench/stream.py measured 7 GB in the database for 20 full
streams of a 200 MB file through one cursor each). So one query per window of
``WINDOW_CHUNKS`` (8 MB), its chunks fetched a batch at a time; when few
streams share the process, a helper thread reads a batch ahead while the
current chunk is being sent.

``MediaChunks`` is the component the app binds (extensions.py, create_app):
one ``StreamGate`` per app, sized by STREAM_DB_CONCURRENCY.
"""

import collections
import contextlib
import dataclasses
import threading

from flask import current_app

from models.db import get_db

WINDOW_CHUNKS = 32


class CorruptFile(Exception):
    """A chunk of a GridFS file is missing or out of place."""


class MediaChunks:
    """Reads byte ranges of GridFS media; ``init_app`` gives each app its StreamGate.

    One object serves every app a process creates (the tests create many), so
    the gate is kept per app in ``app.extensions``, as Flask's extensions keep
    their state.
    """

    def init_app(self, app):
        app.extensions["media_chunks"] = StreamGate(app.config["STREAM_DB_CONCURRENCY"])

    def read(self, file_doc, start, end):
        """``read_range`` with the current app's gate: call it inside the request."""
        return read_range(file_doc, start, end, current_app.extensions["media_chunks"])


class StreamGate:
    """How the streams of one process share MongoDB.

    At most ``slots`` chunk fetches wait on the database at once, so an API
    query never queues behind every stream (bench/stream.py: /auth/me p95
    under 50 streams, 300 ms unbounded, ~30 ms at one per process). And the
    fewer streams share the process, the more chunks each round trip brings:
    alone, ``largest_batch`` (16 chunks, 4 MB: as fast as a direct GridFSBucket
    read, where 2-chunk round trips cost the database a fifth more per byte);
    crowded, ``smallest_batch`` (512 KB), so that what an API query waits
    behind stays short.
    """

    def __init__(self, slots, largest_batch=16, smallest_batch=2):
        self.largest_batch, self.smallest_batch = largest_batch, smallest_batch
        self._free = slots
        self._waiting = collections.deque()  # one Event per waiting fetch, oldest first
        self._streams = 0
        self._lock = threading.Lock()

    def __enter__(self):
        """Take a slot, or wait for one to be handed over in turn.

        Not a Semaphore: a thread that releases one and asks again at once (a
        read-ahead helper) takes it back before the waiter it woke can run;
        measured, a dozen streams then ran six times faster than the rest.
        """
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            turn = threading.Event()
            self._waiting.append(turn)
        turn.wait()

    def __exit__(self, *exc_info):
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()  # the slot passes straight to the oldest waiter
            else:
                self._free += 1

    @contextlib.contextmanager
    def stream(self):
        with self._lock:
            self._streams += 1
        try:
            yield
        finally:
            with self._lock:
                self._streams -= 1

    def batch_chunks(self):
        return max(self.smallest_batch, self.largest_batch // max(self._streams, 1))


def read_range(file_doc, start, end, gate):
    """An iterator of bytes ``start``..``end`` (inclusive) of a GridFS file, chunk by chunk.

    Only the chunks the range covers are fetched, starting at chunk
    ``start // chunkSize``: the last megabyte of a large file costs what the
    first one does, and memory does not grow with the range. The collection
    is resolved here, inside the request (the body is iterated after it);
    nothing is read until the first chunk is asked for.
    """
    chunks = get_db().fs.chunks
    slices = _slices(chunks, file_doc, start, end, gate)
    batch = gate.batch_chunks()
    if (
        batch <= gate.smallest_batch
        or end // file_doc["chunkSize"] - start // file_doc["chunkSize"] < batch
    ):
        # Crowded (the database is the limit, a helper thread per stream only
        # adds contention), or one round trip: nothing to overlap.
        return slices
    # A batch ahead, as the batch is now: a stream that started alone reads
    # less far ahead once the process is crowded, and keeps no edge over the rest.
    return prefetched(slices, depth=gate.batch_chunks)


def _slices(chunks, file_doc, start, end, gate):
    chunk_size = file_doc["chunkSize"]
    first, last = start // chunk_size, end // chunk_size
    with gate.stream():
        expected = first
        while expected <= last:
            window_end = min(expected + WINDOW_CHUNKS - 1, last)
            for number, data in _window(chunks, file_doc["_id"], expected, window_end, gate):
                low = start - number * chunk_size if number == first else 0
                high = end - number * chunk_size + 1 if number == last else None
                yield data if (low, high) == (0, None) else data[low:high]
            expected = window_end + 1


def _window(chunks, file_id, first, last, gate):
    """(n, data) of chunks ``first``..``last`` in order; CorruptFile when one is missing."""
    cursor = chunks.find(
        {"files_id": file_id, "n": {"$gte": first, "$lte": last}},
        {"data": 1, "n": 1, "_id": 0},
        sort=[("n", 1)],
        batch_size=gate.batch_chunks(),
    )
    with cursor:
        for expected in range(first, last + 1):
            with gate:  # only a call that empties the batch waits on the database
                chunk = next(cursor, None)
            if chunk is None or chunk["n"] != expected:
                raise CorruptFile(f"file {file_id}: chunk {expected} is missing")
            yield expected, chunk["data"]


def prefetched(source, depth):
    """Iterate ``source`` in a helper thread, up to ``depth()`` items ahead.

    A stream otherwise alternates between waiting on MongoDB and sending to
    the client, and the two times add up; here the next round trip overlaps
    the sending. Closing the iterator (a client that hangs up) stops the
    helper, which closes ``source`` itself: a generator is closed by the
    thread that runs it. The helper sleeps on a condition while it is a full
    ``depth()`` ahead (the usual state: a player reads at its bitrate), and
    wakes when an item is taken or the stream is closed.
    """
    ahead = _ReadAhead(depth)
    threading.Thread(
        target=ahead.fill_from, args=(source,), name="chunk-prefetch", daemon=True
    ).start()
    try:
        while (item := ahead.take()) is not _END:
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        ahead.stop()


class _ReadAhead:
    """The items between ``prefetched``'s helper thread and the stream that sends them."""

    def __init__(self, depth):
        self.depth = depth
        self.items = collections.deque()
        self.changed = threading.Condition()
        self.stopped = False  # the consumer is gone

    def put(self, item):
        """Wait for room for ``item``; False once the consumer is gone."""
        with self.changed:
            self.changed.wait_for(lambda: self.stopped or len(self.items) < max(self.depth(), 1))
            if self.stopped:
                return False
            self.items.append(item)
            self.changed.notify_all()
            return True

    def fill_from(self, source):
        """The helper thread's work: runs ``source`` to its end, or until the consumer goes."""
        try:
            for item in source:
                if not self.put(item):
                    return
            self.put(_END)
        except BaseException as error:  # handed to the consumer, raised there
            self.put(_Failure(error))
        finally:
            source.close()

    def take(self):
        with self.changed:
            self.changed.wait_for(lambda: self.items)
            item = self.items.popleft()
            self.changed.notify_all()
            return item

    def stop(self):
        with self.changed:
            self.stopped = True
            self.changed.notify_all()


_END = object()


@dataclasses.dataclass
class _Failure:
    error: BaseException
