"""Pages of a list: signed cursors bound to the list they came from, and window hints.

A cursor carries where the previous page ended (models.keyset.Position) and about the time that
page spanned (the next read's first window). It is signed with itsdangerous under a key derived
from ``SECRET_KEY`` and a salt naming the list and its filters, so an edited cursor, or one from
another list or other filters, fails its signature: 400 ``invalid_cursor``.

A first page has no cursor to carry a hint, so each process remembers the window that read the
last first page of each list and filters (like a database's plan cache: a hint for the cost,
never a part of the result).
"""

import logging
from datetime import timedelta

from bson import ObjectId
from bson.errors import InvalidId
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from models.keyset import EPOCH, Position
from services.errors import InvalidInput
from services.recent import Recent

log = logging.getLogger(__name__)

INVALID_CURSOR = "This cursor is not valid for this list: start again from the first page."


def _serializer(scope):
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"list-cursor:{scope}")


def list_scope(name, **filters):
    """The salt of one list with its filters: ``videos?category=music&q=cat``."""
    shown = "&".join(f"{key}={value}" for key, value in sorted(filters.items()) if value)
    return f"{name}?{shown}"


# The window that read each list's last first page, for the most recent few thousand lists.
_first_pages = Recent(5_000)


def list_page(scope, cursor, per_page, read_page):
    """(items, the ``pagination`` body) of one page: ``read_page(after, window)`` reads it
    (a models.keyset.Page) from where ``cursor`` says, with the best window hint there is."""
    after, window = read_cursor(scope, cursor)
    if after is None:
        window = _first_pages.get(scope)
    page = read_page(after, window)
    if after is None:
        _first_pages.remember(scope, page.window)
    return page.items, _body(scope, page, per_page)


def read_cursor(scope, cursor):
    """(Position, window) from a client's cursor; (None, None) for the first page."""
    if cursor is None:
        return None, None
    try:
        micros, id_hex, window_seconds = _serializer(scope).loads(cursor)
        position = Position(EPOCH + timedelta(microseconds=micros), ObjectId(id_hex))
        return position, timedelta(seconds=float(window_seconds))
    except (BadSignature, InvalidId, TypeError, ValueError, OverflowError) as error:
        raise InvalidInput(
            INVALID_CURSOR, code="invalid_cursor", details={"cursor": [INVALID_CURSOR]}
        ) from error


def _body(scope, page, per_page):
    """The ``pagination`` object of a list body, for a models.keyset.Page."""
    if not page.has_more:
        return last_page(per_page)
    micros = (page.end.created_at - EPOCH) // timedelta(microseconds=1)
    payload = [micros, str(page.end.id), page.window.total_seconds()]
    next_cursor = _serializer(scope).dumps(payload)
    return {"per_page": per_page, "next_cursor": next_cursor, "has_more": True}


def last_page(per_page):
    return {"per_page": per_page, "next_cursor": None, "has_more": False}


def built_items(documents, build):
    """``build(document)`` for each document of a page, leaving out (and logging, with its
    id) any whose building raises: a record that was stored broken (a corrupt field, a
    header's absurd claim) costs its own place in the list, never everyone's page. The
    cursor comes from what was read, so the next page starts after it all the same."""
    items = []
    for document in documents:
        try:
            items.append(build(document))
        except Exception:  # whatever is wrong with one record, the others are shown
            log.exception("list item %s left out: it could not be built", document.get("_id"))
    return items
