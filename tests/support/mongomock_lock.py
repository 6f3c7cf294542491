"""One lock around mongomock's reads and writes.

mongomock is not thread-safe: an update mutates the stored document in place while another
thread's cursor copies it, and the read fails with "dictionary changed size during iteration"
(a 500 seen once in CI: a status poll racing the processing thread). MongoDB and the embedded
server serialise this themselves; here every read and write of any mongomock collection holds
one re-entrant lock, so the tests see what a real server would give.
"""

import functools
import threading

from mongomock import collection

LOCK = threading.RLock()
WRITES = ("_insert", "_update", "_delete", "_find_and_modify")


def _locked(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with LOCK:
            return method(*args, **kwargs)

    return wrapper


def install():
    for name in WRITES:
        setattr(collection.Collection, name, _locked(getattr(collection.Collection, name)))
    cursor = collection.Cursor
    cursor._compute_results = _locked(cursor._compute_results)
