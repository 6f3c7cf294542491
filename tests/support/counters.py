"""The counter buffer (models.counter_buffer) flushed before a test reads the counter
collections straight from the database, as the reports do before theirs."""

from models import counter_buffer


def flush_counters(*apps):
    """Write the pending increments of ``apps`` (default: every app of this process)."""
    buffers = [app.extensions["counters"] for app in apps] or list(counter_buffer._live)
    for buffer in buffers:
        assert buffer.flush(10), "counter increments not written"
