"""What bench/money.py measures against: accounts, priced videos and courses made over HTTP,
and the database commands one media request makes (counted in-process).
"""

import http.client
import json
import time
import uuid
from collections import defaultdict

from pymongo import monitoring

MIB = 1024 * 1024


class BenchError(RuntimeError):
    pass


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def call(server, method, path, token=None, body=None, expect=(200, 201), headers=None):
    """One JSON request; (seconds, status, parsed body). Raises unless status is in ``expect``."""
    all_headers = {**(bearer(token) if token else {}), **(headers or {})}
    start = time.perf_counter()
    status, data = server.request(method, path, body, all_headers)
    seconds = time.perf_counter() - start
    if expect and status not in expect:
        raise BenchError(f"{method} {path.split('?')[0]}: {status}: {data[:300]!r}")
    return seconds, status, json.loads(data) if data else None


def account(server, role):
    """(access token, user id) of a new account with ``role``."""
    token = server.token_for(role)
    return token, call(server, "GET", "/auth/me", token)[2]["user"]["id"]


# --- Videos: the real upload route with access and price, then its processing ---


def upload(port, token, path, **fields):
    """POST /video/upload of ``path`` streamed from disk, with form ``fields``; the video id."""
    boundary = uuid.uuid4().hex
    parts = {"title": f"Bench {path.stem}", **{k: str(v) for k, v in fields.items()}}
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in parts.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{path.name}"\r\nContent-Type: video/mp4\r\n\r\n'
    )
    head, tail = head.encode(), f"\r\n--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
    connection.putrequest("POST", "/video/upload")
    connection.putheader("Authorization", f"Bearer {token}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(len(head) + path.stat().st_size + len(tail)))
    connection.endheaders()
    connection.send(head)
    with open(path, "rb") as source:
        while block := source.read(MIB):
            connection.send(block)
    connection.send(tail)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    if response.status != 202:
        raise BenchError(f"upload of {path.name}: {response.status}: {data[:300]!r}")
    return json.loads(data)["video"]["id"]


def wait_ready(server, token, video_ids, timeout=600):
    deadline = time.monotonic() + timeout
    for video_id in video_ids:
        while True:
            state = call(server, "GET", f"/video/{video_id}/status", token)[2]
            if state["status"] == "ready":
                break
            if state["status"] == "failed" or time.monotonic() > deadline:
                raise BenchError(f"video {video_id}: {state}")
            time.sleep(0.5)


def media_path(server, token, video_id):
    """The media route's path and query for a fresh playback token of ``token``'s user."""
    body = call(server, "POST", f"/video/{video_id}/playback-token", token)[2]
    return f"/video/{video_id}/media?token={body['playback_token']}"


def buy(server, token, key, payment_method="pm_card_visa", expect=(201,), **item):
    """POST /purchases of ``item`` (video_id= or course_id=); (seconds, status, body)."""
    body = {**item, "payment_method": payment_method}
    headers = {"Idempotency-Key": key}
    return call(server, "POST", "/purchases", token, body, expect=expect, headers=headers)


def priced_courses(server, token, count, price=500):
    """``count`` new priced courses (empty: a course is an item of its own); their ids."""
    return [
        call(server, "POST", "/courses", token, {"title": f"Bench {i}", "price": price})[2][
            "course"
        ]["id"]
        for i in range(count)
    ]


def subscribe(server, creator_token, creator_id, viewer_token, price=900):
    call(server, "PUT", "/me/subscription-plan", creator_token, {"price": price})
    body = {"creator_id": creator_id, "payment_method": "pm_card_visa"}
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    call(server, "POST", "/subscriptions", viewer_token, body, (201,), headers)


# --- Database commands per media request: the app in this process, pymongo monitored ---


class CommandCounter(monitoring.CommandListener):
    """Keeps (command, collection, microseconds) of every command the app's clients send."""

    def __init__(self):
        self.commands, self._sent = [], {}

    def started(self, event):
        collection = event.command.get(event.command_name)
        name = collection if isinstance(collection, str) else ""
        self._sent[event.request_id] = (event.command_name, name)

    def succeeded(self, event):
        self.commands.append((*self._sent.pop(event.request_id), event.duration_micros))

    def failed(self, event):
        self.commands.append((*self._sent.pop(event.request_id), event.duration_micros))


def commands_per_media_request(mongodb_uri, paths, repeat=31):
    """What one ``Range: bytes=0-1`` request of each path sends to the database, run through
    the app built here (the server's config, no background jobs) on the same database:
    {label: (request seconds, {(command, collection): [microseconds]})} over ``repeat``
    requests each, interleaved, after a warm-up."""
    counter = CommandCounter()
    monitoring.register(counter)  # before the app's MongoClient exists
    from app import create_app

    overrides = {"TESTING": True, "MONGODB_URI": mongodb_uri, "RATELIMIT_ENABLED": False}
    app = create_app({**overrides, "LOG_LEVEL": "WARNING"})
    found = {label: ([], defaultdict(list)) for label in paths}
    with app.test_client() as client:
        for index in range(repeat + 3):
            for label, path in paths.items():
                counter.commands.clear()
                start = time.perf_counter()
                response = client.get(path, headers={"Range": "bytes=0-1"})
                response.close()
                seconds = time.perf_counter() - start
                if response.status_code != 206:
                    raise BenchError(f"in-process media {label}: {response.status_code}")
                if index >= 3:  # the first ones: view counting, caches
                    found[label][0].append(seconds)
                    for name, collection, micros in counter.commands:
                        found[label][1][(name, collection)].append(micros)
    return found


def error_code(data):
    try:
        return json.loads(data).get("code")
    except ValueError:
        return data[:80]
