"""``GET /me/export``: everything stored about the caller, as one JSON document.

The profile without the password hash, every session (no token ids), every video's metadata
(no GridFS ids), the views, and empty lists for what is not stored yet. The document is
streamed page by page: an account with more videos than a page still gets them all.
(docs/accounts.md#exporting-an-account)
"""

import json
from datetime import timedelta

from models import export, playback_view, recent_view
from models import video as videos
from models.common import object_id, utcnow
from models.db import get_db
from tests.support.errors import assert_error


def exported(client, accounts, bundle):
    response = client.get("/me/export", headers=accounts.bearer(bundle))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.is_streamed  # written page by page, never built whole in memory
    return json.loads(response.get_data(as_text=True))


def test_the_export_holds_everything_but_secrets(app, client, accounts, library, media):
    owner = library.owner
    owner_id = object_id(owner["user"]["id"])
    video = library.ready_video(media["h264"], title="mine", visibility="unlisted")
    with app.app_context():
        video_id = object_id(video["id"])
        playback_view.first_use("secret-jti", video_id, owner_id, utcnow() + timedelta(hours=1))
        recent_view.count_if_due(owner_id, video_id, timedelta(hours=1))
    accounts.login(owner["user"]["email"])  # a second session

    body = exported(client, accounts, owner)

    assert body["profile"] == {
        "id": owner["user"]["id"],
        "name": owner["user"]["name"],
        "email": owner["user"]["email"],
        "role": "creator",
        "created_at": body["profile"]["created_at"],
        "updated_at": body["profile"]["updated_at"],
    }
    assert len(body["sessions"]) == 2
    assert all(session["device"] and session["created_at"] for session in body["sessions"])
    [shown] = body["videos"]
    assert shown["id"] == video["id"] and shown["title"] == "mine"
    assert shown["share_key"]  # the owner's to hand out
    assert [view["video_id"] for view in body["playback_views"]] == [video["id"]]
    assert [view["video_id"] for view in body["recent_views"]] == [video["id"]]
    for kind in ("reactions", "progress", "purchases", "subscriptions"):  # none made here
        assert body[kind] == []
    text = json.dumps(body)
    for secret in ("password_hash", "secret-jti", "refresh_jti", "media_file_id", "lease_owner"):
        assert secret not in text
    with app.app_context():
        jtis = [s["refresh_jti"] for s in get_db().sessions.find({"user_id": owner_id})]
    assert len(jtis) == 2 and not any(jti in text for jti in jtis)


def test_more_videos_than_a_page_are_all_exported(app, client, accounts, library, monkeypatch):
    monkeypatch.setattr(export, "PAGE", 3)
    owner_id = object_id(library.owner["user"]["id"])
    with app.app_context():
        made = [
            str(videos.insert({"owner_id": owner_id, "title": f"clip {n}"})["_id"])
            for n in range(8)
        ]
    body = exported(client, accounts, library.owner)
    assert [video["id"] for video in body["videos"]] == made  # _id order, no gap, no repeat


def test_another_users_things_are_not_in_my_export(app, client, accounts, library, media):
    library.ready_video(media["h264"])
    viewer = accounts.user_with_token("viewer")
    body = exported(client, accounts, viewer)
    assert body["videos"] == [] and len(body["sessions"]) == 1
    assert body["profile"]["id"] == viewer["user"]["id"]


def test_the_export_needs_a_token(client):
    assert_error(client.get("/me/export"), 401)


def test_purchases_and_subscriptions_are_exported_without_their_holding_keys(
    app, client, accounts, library
):
    viewer = accounts.user_with_token("viewer")
    viewer_id = object_id(viewer["user"]["id"])
    creator_id = object_id(library.owner["user"]["id"])
    with app.app_context():
        db = get_db()
        bought = db.purchases.insert_one(
            {
                "user_id": viewer_id,
                "item": {"type": "course", "id": creator_id},
                "amount": 999,
                "currency": "USD",
                "status": "succeeded",
                "holding": "secret-holding-key",
            }
        ).inserted_id
        db.subscriptions.insert_one(
            {
                "user_id": viewer_id,
                "creator_id": creator_id,
                "amount": 500,
                "currency": "USD",
                "status": "active",
                "holding": "secret-holding-key",
                "current_period_end": utcnow(),
            }
        )
        db.purchases.insert_one({"user_id": creator_id, "amount": 1, "status": "succeeded"})
    body = exported(client, accounts, viewer)
    [purchase] = body["purchases"]
    assert purchase["id"] == str(bought) and purchase["amount"] == 999
    assert purchase["item"] == {"type": "course", "id": str(creator_id)}
    [subscription] = body["subscriptions"]
    assert subscription["creator_id"] == str(creator_id) and subscription["status"] == "active"
    assert "secret-holding-key" not in json.dumps(body)
