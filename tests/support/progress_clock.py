"""services.progress's clock, moved by hand: watch time is credited by the wall time between
reports, so the progress tests set that time rather than wait for it."""

from datetime import UTC, datetime, timedelta

import pytest

from services import progress


class Clock:
    """Starts at ``start`` (default: now, to the second; BSON keeps milliseconds)."""

    def __init__(self, start=None):
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += timedelta(seconds=seconds)

    def day(self):
        return self.now.date().isoformat()


def clock_fixture(start=None):
    """A pytest fixture putting a Clock (from ``start``) in place of services.progress's."""

    @pytest.fixture
    def clock(monkeypatch):
        moved = Clock(start)
        monkeypatch.setattr(progress, "utcnow", moved)
        return moved

    return clock
