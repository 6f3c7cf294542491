"""Users signed up and in through the API, and ready videos put straight into the database."""

import uuid

from models.common import object_id

PASSWORD = "correct horse battery"


class Accounts:
    """Sign users up and in through the API, as a client would."""

    def __init__(self, client, app):
        self.client = client
        self.app = app

    def signup(self, email=None, role="viewer", name="Test User", password=PASSWORD):
        email = email or f"user-{uuid.uuid4().hex[:8]}@example.com"
        response = self.client.post(
            "/auth/signup", json={"name": name, "email": email, "password": password, "role": role}
        )
        assert response.status_code == 201, response.json
        return response.json["user"]

    def login(self, email, password=PASSWORD):
        response = self.client.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.json
        return response.json

    def user_with_token(self, role="viewer"):
        if role == "admin":
            email, password = self.app.config["ADMIN_EMAIL"], self.app.config["ADMIN_PASSWORD"]
            return self.login(email, password)
        user = self.signup(role=role)
        return self.login(user["email"])

    @staticmethod
    def bearer(bundle):
        token = bundle if isinstance(bundle, str) else bundle["token"]
        return {"Authorization": f"Bearer {token}"}


class Library:
    """Ready videos put straight into the database (no processing), and playback tokens."""

    def __init__(self, app, client, accounts):
        self.app, self.client, self.accounts = app, client, accounts
        self.owner = accounts.user_with_token("creator")

    def ready_video(self, path, **fields):
        from models import media_file
        from models import video as videos
        from services.media import thumbnails

        with self.app.app_context():
            file_id, size, sha256 = media_file.store(path, path.name, "video/mp4")
            jpeg = thumbnails.thumbnail_jpeg(path)
            thumb_id, thumb_sha = media_file.store_bytes(jpeg, "thumb.jpg", "image/jpeg")
            document = videos.insert(
                {
                    "owner_id": object_id(self.owner["user"]["id"]),
                    "owner_name": self.owner["user"]["name"],
                    "title": fields.pop("title", "Stored clip"),
                    "description": "",
                    "visibility": fields.pop("visibility", "public"),
                    "kind": "video",
                }
            )
            ready = {
                "status": videos.READY,
                "media_file_id": file_id,
                "size": size,
                "sha256": sha256,
                "mime_type": "video/mp4",
                "duration": 2.0,
                "thumbnail_file_id": thumb_id,
                "thumbnail_sha256": thumb_sha,
                **fields,
            }
            videos.update(document["_id"], **ready)
        return {"id": str(document["_id"]), "bytes": path.read_bytes(), **ready}

    def playback_token(self, video_id, bundle):
        response = self.client.post(
            f"/video/{video_id}/playback-token", headers=self.accounts.bearer(bundle)
        )
        assert response.status_code == 200, response.json
        return response.json["playback_token"]
