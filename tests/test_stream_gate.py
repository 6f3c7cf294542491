"""models.media_chunks.StreamGate: streams take turns at MongoDB; batches shrink as they crowd."""

import threading
import time

import pytest

from models.media_chunks import StreamGate


def test_no_more_fetches_than_slots_at_once():
    gate, inside, peak, lock = StreamGate(slots=2), [0], [0], threading.Lock()

    def fetch():
        with gate:
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            time.sleep(0.01)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=fetch) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 2


def test_a_lone_stream_fetches_big_batches_and_a_crowd_small_ones():
    gate = StreamGate(slots=1, largest_batch=16, smallest_batch=2)
    with gate.stream():
        assert gate.batch_chunks() == 16
        with gate.stream(), gate.stream(), gate.stream():
            assert gate.batch_chunks() == 4
            crowd = [gate.stream() for _ in range(20)]
            for entered in crowd:
                entered.__enter__()
            assert gate.batch_chunks() == 2
            for entered in crowd:
                entered.__exit__(None, None, None)
        assert gate.batch_chunks() == 16


def test_prefetched_keeps_order_and_raises_the_sources_error():
    from models.media_chunks import prefetched

    def source():
        yield from range(5)
        raise ValueError("chunk 5 is missing")

    got = []
    with pytest.raises(ValueError, match="chunk 5 is missing"):
        for item in prefetched(source(), depth=lambda: 2):
            got.append(item)
    assert got == [0, 1, 2, 3, 4]


def test_a_client_that_hangs_up_stops_the_helper_and_closes_the_source():
    from models.media_chunks import prefetched

    closed = threading.Event()

    def endless():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    def helpers():
        # Only this stream's helper: other tests' threads may start or end meanwhile.
        return {t for t in threading.enumerate() if t.name == "chunk-prefetch"}

    before = helpers()
    stream = prefetched(endless(), depth=lambda: 2)
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    (helper,) = helpers() - before
    stream.close()
    assert closed.wait(2), "the source was not closed"
    helper.join(2)
    assert not helper.is_alive(), "the helper thread outlived the stream"


def test_a_released_slot_goes_to_the_oldest_waiter():
    gate, order = StreamGate(slots=1), []
    gate.__enter__()  # held
    waiters = []
    for name in ("first", "second", "third"):
        waiter = threading.Thread(target=lambda n=name: (gate.__enter__(), order.append(n)))
        waiter.start()
        waiters.append(waiter)
        time.sleep(0.05)  # each is waiting before the next arrives
    gate.__exit__(None, None, None)
    # The releasing thread asks again at once: it must queue behind the waiters.
    barger = threading.Thread(target=lambda: (gate.__enter__(), order.append("barger")))
    barger.start()
    for _ in range(4):
        time.sleep(0.05)
        gate.__exit__(None, None, None)
    for thread in [*waiters, barger]:
        thread.join(2)
    assert order == ["first", "second", "third", "barger"]
