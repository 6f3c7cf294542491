"""models.keyset on its own: windows, ties and filters, against a plain in-order list."""

import random
from datetime import timedelta

import mongomock
import pytest
from bson import ObjectId

from models import keyset
from models.common import utcnow


@pytest.fixture
def collection():
    return mongomock.MongoClient(tz_aware=True).db.items


def read_all(collection, per_page, equality=None, keep=None):
    """Every item, page after page."""
    items, after, window = [], None, None
    while True:
        page = keyset.newest_first(
            collection, equality or {}, per_page, after=after, window=window, keep=keep
        )
        items.extend(page.items)
        if not page.has_more:
            assert page.end is None
            return items
        assert len(page.items) == per_page
        after, window = page.end, page.window


def newest_first(documents):
    return sorted(documents, key=lambda doc: (doc["created_at"], doc["_id"]), reverse=True)


def ids(documents):
    return [doc["_id"] for doc in documents]


def test_a_hundred_items_of_one_millisecond_page_by_id(collection):
    moment = utcnow() - timedelta(days=3)
    documents = [{"_id": ObjectId(), "created_at": moment} for _ in range(100)]
    collection.insert_many(documents)
    assert ids(read_all(collection, per_page=3)) == ids(newest_first(documents))


@pytest.mark.parametrize("seed", range(5))
def test_random_spreads_and_filters_match_a_sorted_list(collection, seed):
    rng = random.Random(seed)
    now = utcnow()
    spans = [timedelta(seconds=1), timedelta(days=1), timedelta(days=4000)]
    documents = []
    for _ in range(rng.randint(0, 150)):
        created_at = now - rng.choice(spans) * rng.random()
        documents.append({"_id": ObjectId(), "created_at": created_at, "kind": rng.choice("ab")})
    if documents:
        collection.insert_many(documents)
    per_page = rng.randint(1, 12)
    expected = [doc for doc in newest_first(documents) if doc["kind"] == "a"]
    by_index = read_all(collection, per_page, equality={"kind": "a"})
    by_filter = read_all(collection, per_page, keep=lambda doc: doc["kind"] == "a")
    assert ids(by_index) == ids(expected)
    assert ids(by_filter) == ids(expected)


def test_the_first_window_starts_now_and_widens_into_the_past(collection):
    old = {"_id": ObjectId(), "created_at": utcnow() - timedelta(days=9000)}
    collection.insert_one(old)
    page = keyset.newest_first(collection, {}, 5)
    assert ids(page.items) == [old["_id"]] and not page.has_more
