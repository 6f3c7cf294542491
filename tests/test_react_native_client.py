"""The React Native app's account calls, replayed exactly as it makes them (docs/clients.md).

It sends axios JSON with ``Authorization: Bearer <token>``, reads ``token`` and
``user`` from login, ``user`` from me, shows ``response.data.error`` and clears
its token on any 401.
"""

from tests.support.tokens import expired_copy

AXIOS_HEADERS = {"Accept": "application/json, text/plain, */*", "User-Agent": "okhttp/4.9.2"}


class ReactNativeApp:
    def __init__(self, client):
        self.client = client
        self.token = None
        self.shown_error = None

    def call(self, method, path, json=None):
        headers = dict(AXIOS_HEADERS)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        response = self.client.open(path, method=method, json=json, headers=headers)
        if response.status_code >= 400:
            self.shown_error = response.json["error"]  # response.data.error
            if response.status_code == 401:
                self.token = None
        return response

    def sign_up(self, name, email, password):
        return self.call(
            "POST", "/auth/signup", {"name": name, "email": email, "password": password}
        )

    def log_in(self, email, password):
        response = self.call("POST", "/auth/login", {"email": email, "password": password})
        if response.status_code == 200:
            self.token = response.json["token"]
            self.user = response.json["user"]
        return response

    def profile(self):
        return self.call("GET", "/auth/me")

    def log_out(self):
        response = self.call("POST", "/auth/logout")
        kept = self.token
        self.token = None
        return response, kept


def test_the_apps_account_flow(client):
    phone = ReactNativeApp(client)
    short = phone.sign_up("Grace Hopper", "grace@example.com", "cobol6")
    assert short.status_code == 400
    assert phone.shown_error == "Password must be at least 8 characters."
    assert phone.sign_up("Grace Hopper", "grace@example.com", "cobol-forever").status_code == 201
    assert phone.sign_up("Grace Hopper", "grace@example.com", "cobol-forever").status_code == 409
    assert "already exists" in phone.shown_error

    assert phone.log_in("grace@example.com", "wrong-password").status_code == 401
    assert phone.shown_error == "Invalid email or password"

    assert phone.log_in("grace@example.com", "cobol-forever").status_code == 200
    assert phone.user["name"] == "Grace Hopper" and phone.user["id"]

    me = phone.profile()
    assert me.status_code == 200 and me.json["user"]["email"] == "grace@example.com"

    response, old_token = phone.log_out()
    assert response.status_code == 200
    phone.token = old_token  # a stale token kept by a second screen
    again = phone.profile()
    assert again.status_code == 401
    assert phone.token is None  # the app cleared it, as it does on any 401
    assert phone.shown_error


def test_the_apps_playback_flow(client, library, multi_chunk_mp4):
    """Dashboard, the stream JSON, then the URLs as its WebView and <Image> load them."""
    video = library.ready_video(multi_chunk_mp4, title="Tonight's show")
    phone = ReactNativeApp(client)
    phone.sign_up("Ada", "ada@example.com", "analytical-engine")
    phone.log_in("ada@example.com", "analytical-engine")

    feed = phone.call("GET", "/dashboard")
    assert feed.status_code == 200
    item = next(v for v in feed.json["videos"] if v["id"] == video["id"])
    assert item["title"] == "Tonight's show"
    stream = phone.call("GET", f"/video/{item['id']}/stream?token={item['playback_token']}")
    assert stream.status_code == 200
    stream_url, thumbnail_url = stream.json["stream_url"], item["thumbnail_url"]

    # The WebView and <Image> send no header at all: the signed URLs alone must work.
    played = client.get(stream_url, headers={"Range": "bytes=0-1"})
    assert played.status_code == 206 and played.data == video["bytes"][:2]
    assert client.get(stream_url).data == video["bytes"]
    picture = client.get(thumbnail_url)
    assert picture.status_code == 200 and picture.headers["Content-Type"] == "image/jpeg"

    phone.log_out()
    assert client.get(stream_url).status_code == 401
    assert client.get(thumbnail_url).status_code == 401


def test_a_stale_playback_token_does_not_sign_the_app_out(app, client, library, multi_chunk_mp4):
    """A playback token kept past its life (the app was in the background) is a 403 on
    /stream: the app shows why and keeps its access token, where a 401 would log it out."""
    video = library.ready_video(multi_chunk_mp4)
    phone = ReactNativeApp(client)
    phone.sign_up("Ada", "ada@example.com", "analytical-engine")
    phone.log_in("ada@example.com", "analytical-engine")
    item = next(v for v in phone.call("GET", "/dashboard").json["videos"] if v["id"] == video["id"])
    stale = expired_copy(app, item["playback_token"])

    stream = phone.call("GET", f"/video/{video['id']}/stream?token={stale}")
    assert stream.status_code == 403
    assert stream.json["code"] == "playback_token_expired"
    assert phone.token is not None  # still signed in
    assert "expired" in phone.shown_error
    assert phone.profile().status_code == 200
