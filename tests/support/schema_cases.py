"""Case helpers of tests/test_api_schema.py: which parts of a case are valid, real cursors."""

from urllib.parse import urlencode

from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation

from tests.support import schema_engagement, schema_money


def positive(case, location):
    """Whether ``case`` left its ``location`` component valid (swapping a deliberately invalid
    value for a real one would turn a negative case into a valid one)."""
    meta = case.meta
    if meta is None:
        return True
    component = meta.components.get(ParameterLocation(location))
    return component is None or component.mode == GenerationMode.POSITIVE


LIST_ROUTES = ("/videos", "/dashboard", "/admin/users", *schema_money.LIST_ROUTES)
LIST_ROUTES += schema_engagement.LIST_ROUTES


def with_real_cursor(case, world):
    """Any string fits the schema's ``cursor``, but only one its own list gave is accepted
    (opaque and signed). A valid case's cursor becomes a real one of the same list and filters,
    fetched with the case's own token; a list of one page has none, so the cursor goes."""
    query = case.query or {}
    if case.operation.path not in LIST_ROUTES or "cursor" not in query:
        return
    if not positive(case, "query"):
        return
    first_page = {key: value for key, value in query.items() if key != "cursor"}
    first_page["per_page"] = 1
    path = f"{case.operation.path}?{urlencode(first_page, doseq=True)}"
    reply = world.http.request("GET", path, headers=dict(case.headers or {}))
    if reply.status != 200:
        return  # the case is refused before its cursor is read (its token, its filters)
    cursor = reply.json()["pagination"]["next_cursor"]
    if cursor is None:
        del query["cursor"]
    else:
        query["cursor"] = cursor
