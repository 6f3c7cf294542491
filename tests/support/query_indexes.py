"""The machinery of the index tests (tests/test_query_indexes.py and the index test of each
feature): a command listener that records the queries the app sends, the indexes start-up made,
and MongoDB's rule for whether an index serves a query without a blocking sort."""

import functools
from dataclasses import dataclass

from pymongo import MongoClient, monitoring

from models import db


def recording_queries(monkeypatch):
    """A QueryRecorder on every MongoClient the app opens from now on (a fixture's body)."""
    listener = QueryRecorder()
    monkeypatch.setattr(
        db, "MongoClient", functools.partial(MongoClient, event_listeners=[listener])
    )
    return listener


RANGE_OPERATORS = {"$gt", "$gte", "$lt", "$lte"}
CHECKED_COMMANDS = {"find", "update", "delete", "count", "aggregate", "findAndModify"}


@dataclass(frozen=True)
class Query:
    collection: str
    filter: dict
    sort: dict

    def __str__(self):
        return f"{self.collection}: filter {self.filter} sort {self.sort}"


class QueryRecorder(monitoring.CommandListener):
    def __init__(self):
        self.queries = []
        self.recording = False

    def started(self, event):
        if not self.recording or event.command_name not in CHECKED_COMMANDS:
            return
        command = event.command
        name = command[event.command_name]
        if event.command_name in ("update", "delete"):
            for statement in command.get("updates") or command.get("deletes") or []:
                self.queries.append(Query(name, dict(statement["q"]), {}))
        elif event.command_name in ("count", "aggregate"):
            self.queries.append(Query(name, {"$unindexed": event.command_name}, {}))
        else:
            self.queries.append(
                Query(name, dict(command.get("filter", {})), command.get("sort", {}))
            )

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def shape(query_filter):
    """(equality fields, range fields), or None when an operator no index serves is used."""
    equality, ranges = set(), set()
    for field, condition in query_filter.items():
        if field.startswith("$"):
            return None
        if isinstance(condition, dict) and any(key.startswith("$") for key in condition):
            operators = set(condition)
            if operators <= RANGE_OPERATORS:
                ranges.add(field)
            elif operators <= {"$in", "$eq"}:
                equality.add(field)
            else:
                return None
        else:
            equality.add(field)
    return equality, ranges


def served_by(keys, query, partial=None):
    """Does an index with these ``[(field, direction)]`` keys (and ``partial`` filter, if
    any) serve ``query``?"""
    if keys == [("_id", 1)] and _one_id(query.filter):
        return True  # the unique _id finds one document at most; the rest is checked on it
    found = shape(query.filter)
    if found is None:
        return False
    equality, ranges = found
    if partial:  # only a query that names the partial filter's values may use the index
        if any(query.filter.get(field) != value for field, value in partial.items()):
            return False
        equality -= set(partial) - {field for field, _ in keys}
    fields = [field for field, _ in keys]
    if set(fields[: len(equality)]) != equality:
        return False
    rest = keys[len(equality) :]
    sort = [(field, direction) for field, direction in query.sort.items() if field not in equality]
    if sort:
        if [field for field, _ in rest[: len(sort)]] != [field for field, _ in sort]:
            return False
        flips = {
            direction * index_direction
            for (_, direction), (_, index_direction) in zip(sort, rest, strict=False)
        }
        if len(flips) != 1:
            return False
    return ranges <= {field for field, _ in rest}


def _one_id(query_filter):
    condition = query_filter.get("_id")
    if isinstance(condition, dict) and any(key.startswith("$") for key in condition):
        return set(condition) <= {"$in", "$eq"}
    return "_id" in query_filter


def indexes_of(database):
    """{collection: [(keys, partial filter or None)]} of every index start-up made."""
    return {
        name: [
            (list(spec["key"]), spec.get("partialFilterExpression"))
            for spec in database[name].index_information().values()
        ]
        for name in database.list_collection_names()
    }


def unserved(queries, indexes):
    return sorted(
        {
            str(query)
            for query in queries
            if not any(
                served_by(keys, query, partial)
                for keys, partial in indexes.get(query.collection, [([("_id", 1)], None)])
            )
        }
    )
