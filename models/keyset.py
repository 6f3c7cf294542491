"""Newest-first pages by keyset over ``(created_at, _id)``, read in time windows.

Every list (catalogue, dashboard, admin users) pages this way, so page 50 costs what page 1
costs however large the collection is. A page is the documents strictly older than a
*position* (the last item of the previous page), newest first.

Why windows, and not ``find(...).sort().limit()`` alone: the embedded development server
loads a query's whole match set before it sorts and limits, so a one-sided filter
(``created_at < position``) costs as much as the collection. What stays bounded there is a
filter of equality fields followed by a two-sided range on the next key of a compound index
(``{status, visibility, deleted_at, created_at: {$gte, $lte}}`` on the index ``(status,
visibility, deleted_at, created_at, _id)``). On MongoDB the same filter, sort and limit walk
that index in order (equality, sort, range): no blocking sort, and keys examined stay close to
documents returned. So a page is read as a few windows ``[lower, position]`` ending at the
position: the first window's width is a hint (about the time the previous page spanned, carried
in the cursor; a day for a first page); a window that comes back short widens the next one, as
far back as the epoch.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bson import ObjectId

from models.common import as_utc, utcnow

NEWEST_FIRST = [("created_at", -1), ("_id", -1)]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_WINDOW = timedelta(days=1)
SHORTEST_WINDOW = timedelta(seconds=1)
# Far enough ahead that a clock a little behind another process's still sees its newest items.
FUTURE_SLACK = timedelta(days=1)
MAX_GROWTH = 16
NEXT_WINDOW_MARGIN = 1.5
# A filtered list (kept by ``keep``) may read a few times what it returns from a window.
FILTERED_READ_FACTOR = 4


@dataclass(frozen=True)
class Position:
    """Where a page ends: items strictly older than this come next."""

    created_at: datetime
    id: ObjectId

    @classmethod
    def of(cls, document):
        return cls(as_utc(document["created_at"]), document["_id"])

    def is_after(self, document):
        """True when ``document`` comes later in the list (it is older)."""
        return (as_utc(document["created_at"]), document["_id"]) < (self.created_at, self.id)


@dataclass(frozen=True)
class Page:
    items: list
    has_more: bool
    end: Position | None  # the last item's position, when there is more to read
    window: timedelta  # about the time this page spanned: the next page's first window


def newest_first(
    collection, equality, per_page, *, after=None, window=None, keep=None, fields=None
):
    """Up to ``per_page`` documents matching ``equality`` that come after ``after``.

    ``equality`` holds only equality fields that, with ``created_at`` and ``_id``, make up an
    index's key; ``keep(document)`` filters further in Python (conditions no index serves).
    """
    reader = _WindowReader(collection, equality, keep, fields)
    wanted = per_page + 1
    now = utcnow()
    start = position = after or Position(now + FUTURE_SLACK, ObjectId("f" * 24))
    width = _clamp(window or DEFAULT_WINDOW)
    found = []
    while len(found) < wanted:
        # The first page's window reaches a little into the future but is as wide into the past.
        lower = max(min(position.created_at, now) - width, EPOCH)
        batch, position, exhausted = reader.read(position, lower, wanted - len(found))
        found.extend(batch)
        if exhausted and len(found) < wanted:
            if lower <= EPOCH:
                break
            position = Position(lower, ObjectId("0" * 24))
            width = _clamp(width * _growth(len(batch), wanted - len(found)))
    items = found[:per_page]
    if len(found) <= per_page:
        return Page(items, False, None, width)
    end = Position.of(items[-1])
    # The next page likely spans about the time this one did.
    covered = min(start.created_at, now) - end.created_at
    return Page(items, True, end, _clamp(covered * NEXT_WINDOW_MARGIN))


class _WindowReader:
    """One window's query: the index-served filter, newest first, kept by ``keep``."""

    def __init__(self, collection, equality, keep, fields):
        self.collection = collection
        self.equality = equality
        self.keep = keep
        self.fields = fields

    def read(self, position, lower, needed):
        """(kept documents, the position to read on from, whether the window is used up)."""
        limit = needed * FILTERED_READ_FACTOR + 20 if self.keep else needed + 20
        window = {"$gte": lower, "$lte": position.created_at}
        query = {**self.equality, "created_at": window}
        raw = self._newest(query, limit)
        # Documents of the position's own millisecond that come before it are read too (the
        # filter cannot say "same time, smaller id" without an $or, which no index serves);
        # when a whole read is made of them, read more, or the next read would start over.
        while len(raw) == limit and not position.is_after(raw[-1]):
            limit *= 2
            raw = self._newest(query, limit)
        later = [doc for doc in raw if position.is_after(doc)]
        kept = [doc for doc in later if self.keep is None or self.keep(doc)][:needed]
        if len(raw) < limit:
            return kept, position, True
        # The window holds more than one read: go on from the last document read.
        return kept, Position.of(raw[-1]), False

    def _newest(self, query, limit):
        return list(self.collection.find(query, self.fields).sort(NEWEST_FIRST).limit(limit))


def _growth(found_in_window, still_needed):
    """How much wider the next window is: enough for what is missing at the rate just seen."""
    if found_in_window == 0:
        return MAX_GROWTH
    return min(MAX_GROWTH, max(2, 1.5 * still_needed / found_in_window))


def _clamp(width):
    return min(max(width, SHORTEST_WINDOW), datetime.now(UTC) - EPOCH)
