"""A worker process filling the media cache, for the tests that kill one mid-fill.

``python -m tests.support.media_cache_filler DIR FILE_ID SIZE SEED MODE``: fills the file
``pattern(SIZE, SEED)`` (id FILE_ID) into the cache at DIR, in this process, the way a pool
thread does. MODE ``finish`` fills and exits; ``hang`` writes the first piece, prints
``writing`` and then waits for stdin to close (the test kills it with SIGKILL first).
"""

import sys

from bson import ObjectId

from services.media_cache import MediaCache
from services.media_cache import fill as fills
from services.media_cache.cache import FillJob
from services.media_cache.store import entry_name
from tests.support.media_cache import Stored, pattern


def main(directory, file_id, size, seed, mode):
    stored = Stored(pattern(int(size), int(seed)), file_id=ObjectId(file_id))
    cache = MediaCache(directory, 1 << 30)

    def hanging(file_doc, start, end):
        pieces = stored.read_range(file_doc, start, end)
        yield next(pieces)
        print("writing", flush=True)
        sys.stdin.read()  # until killed
        yield from pieces

    source = hanging if mode == "hang" else stored.read_range
    name = entry_name(stored.doc["_id"], stored.sha256)
    job = FillJob(name, stored.doc, stored.sha256, source)
    print(fills.fill(cache.layout, job, cache.budget, fills.write_all, cache.clock_ns))


if __name__ == "__main__":
    main(*sys.argv[1:])
