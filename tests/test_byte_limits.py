"""The byte routes' per-token count (blueprints/common/byte_limits.py): requests are added to
the shared counter in batches, yet every refusal is decided on the shared count."""

from limits import parse
from limits.storage import MemoryStorage

from blueprints.common.byte_limits import SYNC_SECONDS, BatchedCounts

KEY = "LIMITER/byte-routes/token:abc/4/1/minute"


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class CountingStorage(MemoryStorage):
    def __init__(self):
        super().__init__()
        self.increments = 0

    def incr(self, key, expiry, amount=1):
        self.increments += 1
        return super().incr(key, expiry, amount)


def test_many_requests_cost_one_increment_per_sync_interval():
    storage, clock = CountingStorage(), Clock()
    counts, limit = BatchedCounts(clock), parse("1000 per minute")
    assert all(counts.hit(storage, limit, KEY) for _ in range(100))
    assert storage.increments == 1  # the first request; the rest wait for the interval
    clock.now += SYNC_SECONDS
    assert counts.hit(storage, limit, KEY)
    assert storage.increments == 2
    assert storage.get(KEY) == 101  # nothing lost: the batch went in with the next sync


def test_the_limit_is_exact_in_one_process():
    storage, counts, limit = CountingStorage(), BatchedCounts(Clock()), parse("4 per minute")
    assert [counts.hit(storage, limit, KEY) for _ in range(6)] == [True] * 4 + [False] * 2


def test_near_the_limit_every_request_reads_the_other_processes_count():
    """Two processes, one token: once the shared count is near the limit, each request is
    added at once, so the requests of both together stop at the limit."""
    storage, clock, limit = CountingStorage(), Clock(), parse("10 per minute")
    first, second = BatchedCounts(clock), BatchedCounts(clock)
    assert first.hit(storage, limit, KEY) and second.hit(storage, limit, KEY)
    clock.now += SYNC_SECONDS
    passed = [counts.hit(storage, limit, KEY) for counts in (first, second) * 10]
    clock.now += SYNC_SECONDS
    passed += [counts.hit(storage, limit, KEY) for counts in (first, second) * 4]
    # Bounded: past the limit only by what one interval hid from each process.
    assert passed.count(True) + 2 <= 2 * 10
    assert passed[-4:] == [False] * 4  # and then refused, in both processes
    assert storage.get(KEY) >= 10


class SlowStorage(CountingStorage):
    """Requests of other threads arrive while an increment is being written (``during``)."""

    def __init__(self, during):
        super().__init__()
        self.during, self.started = during, 0

    def incr(self, key, expiry, amount=1):
        self.started += 1
        if self.started == 2:  # the first one after the interval
            self.during()
        return super().incr(key, expiry, amount)


def increments_overlapped(limit_text, arriving):
    """(clock, storage, what the ``arriving`` requests during the second increment got, a
    request of the key)."""
    clock, limit = Clock(), parse(limit_text)
    counts, concurrent = BatchedCounts(clock), []

    def hit():
        return counts.hit(storage, limit, KEY)

    storage = SlowStorage(lambda: concurrent.extend(hit() for _ in range(arriving)))
    return clock, storage, concurrent, hit


def test_requests_during_an_increment_wait_for_the_next_one():
    """Away from the limit, one increment per token at a time: the requests that come in
    while it is written are added by the next one, not each by its own."""
    clock, storage, concurrent, hit = increments_overlapped("1000 per minute", 20)
    assert hit()
    clock.now += SYNC_SECONDS
    assert hit()
    assert concurrent == [True] * 20 and storage.increments == 2
    clock.now += SYNC_SECONDS
    assert hit() and storage.increments == 3
    assert storage.get(KEY) == 23  # nothing lost


def test_near_the_limit_requests_during_an_increment_make_their_own():
    """As without one in flight: a request that would reach the limit is decided on the
    shared count, at once."""
    clock, storage, concurrent, hit = increments_overlapped("4 per minute", 4)
    assert hit() and hit()  # the second only counted: one increment so far
    clock.now += SYNC_SECONDS
    assert not hit()  # its increment (of 2) is written last, after the four below
    # Shared 1 and pending 1, 2: pass; pending 3 reaches 4, written: 4; then 5, refused.
    assert concurrent == [True, True, True, False]
    assert storage.increments == 4 and storage.get(KEY) == 7
