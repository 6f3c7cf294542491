"""Every mutating route of the app leaves an audit entry (docs/audit.md#what-is-recorded).

The routes are not listed by hand: the test walks ``app.url_map``, so a route added later is
covered the day it exists. Each POST, PUT, PATCH and DELETE is called twice: with no
credentials, and as a plain viewer (which most routes refuse for permission, or for the
unknown id in their path). Every call, whatever its status, must be in the log under the
route's endpoint, with its method, status, the path's id as target, the caller, and nothing of
what was sent (a canary in the body, the query string and a header never reaches the log).
"""

from bson import ObjectId, json_util

from models import db

MUTATING = ("POST", "PUT", "PATCH", "DELETE")
CANARY = "canary-7f3e9b1d-secret"
BODY = {"password": CANARY, "title": CANARY, "email": f"{CANARY}@example.com", "value": CANARY}
# Called last with a viewer's token: they end the caller's session or account.
ENDS_THE_CALLER = {"auth.logout", "account.delete_account"}


def mutating_routes(app):
    """[(method, rule, endpoint)] of every mutating route, sorted."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(set(rule.methods) & set(MUTATING)):
            found.append((method, rule, rule.endpoint))
    return sorted(found, key=lambda item: (item[2] in ENDS_THE_CALLER, item[2], item[0]))


def path_of(rule):
    """The rule's path with a fresh id for each parameter; {name: value} of them."""
    values = {name: str(ObjectId()) for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1], values


def expected_target(values):
    ids = [(name, value) for name, value in values.items() if name.endswith("_id")]
    if not ids:
        return None
    name, value = ids[-1]
    return {"type": name[: -len("_id")], "id": value}


def call(client, method, path, headers):
    return client.open(
        path,
        method=method,
        json=BODY,
        query_string={"note": CANARY},
        headers={**headers, "X-Canary": CANARY},
    )


def test_every_mutating_route_is_recorded_whoever_calls(app, client, accounts):
    routes = mutating_routes(app)
    endpoints = {endpoint for _, _, endpoint in routes}
    # The walk found the routes of every area (a url_map read wrongly finds none).
    assert {"video.edit", "reactions.react", "progress.report_progress", "admin.delete_user",
            "auth.login", "payments.webhook", "courses.create"} <= endpoints  # fmt: skip

    viewer = accounts.user_with_token("viewer")
    viewer_id = ObjectId(viewer["user"]["id"])
    tokens = [viewer["token"]]
    made = []  # (endpoint, method, status, target, actor_id, request_id)
    open_routes = set()  # (method, endpoint) answered without credentials by other than 401
    for method, rule, endpoint in routes:
        for headers, actor in (({}, None), (accounts.bearer(viewer), viewer_id)):
            path, values = path_of(rule)
            response = call(client, method, path, headers)
            assert response.status_code != 429
            if actor is None and response.status_code != 401:
                open_routes.add((method, endpoint))
            if endpoint in ENDS_THE_CALLER and actor is not None and response.status_code < 300:
                viewer = accounts.user_with_token("viewer")  # a new caller for what follows
                viewer_id = ObjectId(viewer["user"]["id"])
                tokens.append(viewer["token"])
            made.append(
                (endpoint, method, response.status_code, expected_target(values), actor,
                 response.headers.get("X-Request-ID"))
            )  # fmt: skip

    assert app.extensions["audit_log"].flush(30)
    with app.app_context():
        stored = list(db.get_db().audit_log.find())
    by_request = {entry["request_id"]: entry for entry in stored}
    missing, wrong = [], []
    for endpoint, method, status, target, actor, request_id in made:
        entry = by_request.get(request_id)
        if entry is None:
            missing.append((method, endpoint, status))
            continue
        seen = (entry["action"], entry["method"], entry["status"], entry["target"])
        if seen != (endpoint, method, status, target):
            wrong.append((seen, (endpoint, method, status, target)))
        # A 401 is anonymous; an open route (login, the webhook) reads no access token.
        if status == 401:
            allowed = {None}
        elif (method, endpoint) in open_routes:
            allowed = {None, actor}
        else:
            allowed = {actor}
        if entry["actor_id"] not in allowed:
            wrong.append((endpoint, status, "actor", entry["actor_id"], actor))
        if entry["actor_id"] is not None and entry["actor_role"] != "viewer":
            wrong.append((endpoint, status, "role", entry["actor_role"]))
    assert missing == [], f"mutating calls with no audit entry: {missing}"
    assert wrong == []
    # Refusals for permission are among them: every admin route refused the viewer, recorded.
    refused = {(e["action"], e["status"]) for e in stored if e["actor_id"] is not None}
    for endpoint in endpoints:
        if endpoint.startswith("admin."):
            assert (endpoint, 403) in refused, endpoint
    assert ("courses.create", 403) in refused  # a creator's route, refused to a viewer
    assert CANARY not in json_util.dumps(stored)
    assert not [token for token in tokens if token in json_util.dumps(stored)]
