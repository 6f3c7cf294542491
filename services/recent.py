"""A small, thread-safe memory of the most recently remembered keys (least recent go first)."""

import threading
from collections import OrderedDict


class Recent:
    """The last ``capacity`` keys remembered, each with a value; a process's own hints only."""

    def __init__(self, capacity):
        self.capacity = capacity
        self._items = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key):
        with self._lock:
            return key in self._items

    def get(self, key):
        with self._lock:
            return self._items.get(key)

    def remember(self, key, value=True):
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            if len(self._items) > self.capacity:
                self._items.popitem(last=False)
