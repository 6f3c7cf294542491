"""Deleting an account: ``DELETE /me`` and ``DELETE /admin/users/{id}``.

At once: every token of the account is refused, its email is free for a new signup and login
with it fails like an unknown one. A job under a lease then removes the videos (documents and
GridFS files), views and sessions, and leaves a tombstone with the ``_id`` only; a job that
dies midway is finished by the sweep. The last admin cannot be deleted.
(docs/accounts.md#deleting-an-account)
"""

from datetime import timedelta

from models import media_file, playback_view, recent_view
from models import video as videos
from models.common import object_id, utcnow
from models.db import get_db
from services import erasure
from services.errors import Unauthorized
from services.media import uploads
from tests.support.accounts import PASSWORD
from tests.support.errors import assert_error


def jobs_done(app):
    """Wait for the deletion jobs queued so far: the pool has one worker, so FIFO."""
    app.extensions["account_deletions"].executor.submit(lambda: None).result(timeout=60)


def delete_me(client, bundle, password=PASSWORD):
    headers = {"Authorization": f"Bearer {bundle['access_token']}"}
    return client.delete("/me", json={"password": password}, headers=headers)


def owner_with_things(app, library, media):
    """The library's creator with two ready videos (with a source file each) and views."""
    owner_id = object_id(library.owner["user"]["id"])
    ids = []
    for title in ("first", "second"):
        with app.app_context():
            source = media_file.store_bytes(b"original bytes", "src.mp4", "video/mp4")[0]
        ids.append(object_id(library.ready_video(media["h264"], title=title)["id"]))
        with app.app_context():
            videos.update(ids[-1], source_file_id=source)
    with app.app_context():
        playback_view.first_use("jti-1", ids[0], owner_id, utcnow() + timedelta(hours=1))
        recent_view.count_if_due(owner_id, ids[0], timedelta(hours=1))
    return owner_id, ids


def left_of(app, owner_id, video_ids):
    """What the database still holds of the account: counts by kind."""
    with app.app_context():
        database = get_db()
        files = database.fs.files.count_documents({})
        return {
            "user": database.users.count_documents({"_id": owner_id}),
            "videos": database.videos.count_documents({"owner_id": owner_id}),
            "files": files,
            "playback_views": database.playback_views.count_documents({"user_id": owner_id}),
            "recent_views": database.recent_views.count_documents({"user_id": owner_id}),
            "sessions": database.sessions.count_documents({"user_id": owner_id}),
        }


NOTHING = {
    "user": 0,
    "videos": 0,
    "files": 0,
    "playback_views": 0,
    "recent_views": 0,
    "sessions": 0,
}


def test_deleting_my_account_removes_everything_and_keeps_a_tombstone(
    app, client, accounts, library, media
):
    owner_id, ids = owner_with_things(app, library, media)
    assert left_of(app, owner_id, ids)["files"] == 6

    response = delete_me(client, library.owner)
    assert response.status_code == 202, response.json
    jobs_done(app)

    assert left_of(app, owner_id, ids) == NOTHING
    with app.app_context():
        tombstone = get_db().deleted_accounts.find_one({"_id": owner_id})
    assert tombstone["pending"] is False and tombstone["finished_at"]
    assert not {"name", "email", "password_hash", "lease_owner"} & set(tombstone)


def test_tokens_end_and_the_email_is_free_at_once(app, client, accounts, library, media):
    email = library.owner["user"]["email"]
    refresh = library.owner["refresh_token"]
    video = library.ready_video(media["h264"])
    playback = library.playback_token(video["id"], library.owner)
    other_device = accounts.login(email)
    assert delete_me(client, library.owner).status_code == 202

    for bundle in (library.owner, other_device):
        assert_error(client.get("/me/sessions", headers=accounts.bearer(bundle)), 401)
    assert_error(client.post("/auth/refresh", json={"refresh_token": refresh}), 401)
    assert_error(client.get(f"/video/{video['id']}/media?token={playback}"), 401)
    upload = client.post(
        "/video/upload",
        data={"title": "late", "file": (media["h264"].open("rb"), "late.mp4")},
        headers=accounts.bearer(other_device),
    )
    assert_error(upload, 401)  # refused at the session check, before the body is read
    login = client.post("/auth/login", json={"email": email, "password": PASSWORD})
    unknown = client.post(
        "/auth/login", json={"email": "nobody-at-all@example.com", "password": PASSWORD}
    )
    assert_error(login, 401, "invalid_credentials")
    assert login.json == unknown.json
    again = accounts.signup(email=email)
    assert again["id"] != library.owner["user"]["id"]
    jobs_done(app)


def test_a_wrong_password_is_403_and_deletes_nothing(app, client, library):
    response = delete_me(client, library.owner, password="not the password")
    assert_error(response, 403, "wrong_password")
    me = client.get("/me/sessions", headers={"Authorization": f"Bearer {library.owner['token']}"})
    assert me.status_code == 200


def test_a_crash_midway_is_finished_by_the_sweep(app, client, library, media, monkeypatch):
    owner_id, ids = owner_with_things(app, library, media)
    removed = []
    real_remove = videos.remove

    def crash_after_the_first(video_id):
        if removed:
            raise RuntimeError("the process died here")
        removed.append(video_id)
        real_remove(video_id)

    monkeypatch.setattr(videos, "remove", crash_after_the_first)
    assert delete_me(client, library.owner).status_code == 202
    jobs_done(app)
    left = left_of(app, owner_id, ids)
    assert left["user"] == 0 and left["videos"] == 1 and left["playback_views"] == 1

    monkeypatch.setattr(videos, "remove", real_remove)
    deletions = app.extensions["account_deletions"]
    assert deletions.sweep() == []  # the dead job's lease has not run out yet
    with app.app_context():  # the lease runs out: as if its length had passed
        get_db().deleted_accounts.update_one(
            {"_id": owner_id}, {"$set": {"lease_until": utcnow() - timedelta(seconds=1)}}
        )
    assert deletions.sweep() == [owner_id]
    jobs_done(app)
    assert left_of(app, owner_id, ids) == NOTHING
    with app.app_context():
        assert get_db().deleted_accounts.find_one({"_id": owner_id})["pending"] is False


def test_a_video_uploaded_while_the_job_ran_is_removed_too(app, client, library, media):
    """An upload whose request passed the session check before the deletion inserts its
    video after the job looked: the upload sees the account gone and removes it (401)."""
    owner_id = object_id(library.owner["user"]["id"])
    with app.app_context():
        owner = get_db().users.find_one({"_id": owner_id})
    assert delete_me(client, library.owner).status_code == 202
    jobs_done(app)
    with app.test_request_context():
        try:
            uploads.accept(owner, media["h264"], "late.mp4", {"title": "late"})
        except Unauthorized as error:
            assert error.code == "invalid_token"
        else:
            raise AssertionError("an upload for a deleted account was accepted")
    assert left_of(app, owner_id, [])["videos"] == 0
    assert left_of(app, owner_id, [])["files"] == 0


def test_the_job_removes_videos_created_after_its_first_pass(app, client, library, media):
    owner_id, ids = owner_with_things(app, library, media)
    deletions = app.extensions["account_deletions"]
    late = []

    def upload_meanwhile(user_id, lease):
        late.append(library.ready_video(media["h264"], title="meanwhile")["id"])

    deletions.steps = (
        erasure.remove_account,
        erasure.remove_videos,
        upload_meanwhile,
        *erasure.STEPS[2:],
    )
    assert delete_me(client, library.owner).status_code == 202
    jobs_done(app)
    assert late and left_of(app, owner_id, ids) == NOTHING


def test_a_deletion_pending_past_its_bound_is_logged_and_finished(app, client, library, caplog):
    """ACCOUNT_DELETION_HOURS: a deletion the sweep finds older than it is an error in the log
    (the job still finishes it)."""
    owner_id = object_id(library.owner["user"]["id"])
    deletions = app.extensions["account_deletions"]

    def crash(user_id, lease):
        raise RuntimeError("the process died here")

    deletions.steps = (crash,)  # the job dies before its first step
    assert delete_me(client, library.owner).status_code == 202
    jobs_done(app)
    deletions.steps = erasure.STEPS
    hours = app.config["ACCOUNT_DELETION_HOURS"]
    with app.app_context():
        get_db().deleted_accounts.update_one(
            {"_id": owner_id},
            {
                "$set": {
                    "deleted_at": utcnow() - timedelta(hours=hours, minutes=1),
                    "lease_until": utcnow() - timedelta(seconds=1),
                }
            },
        )
    assert deletions.sweep() == [owner_id]
    jobs_done(app)
    assert "overdue" in caplog.text
    assert left_of(app, owner_id, []) == NOTHING


def test_mail_tokens_and_queued_mail_of_the_account_go_too(make_app, smtp_server):
    """Mail waiting in the queue names the address, not the account: it is dropped at once,
    with the mailed tokens, while the address is still known."""
    from models import email_tokens, mail_outbox
    from tests.support.mailed import MailWorld, mail_app

    world = MailWorld(mail_app(make_app, smtp_server("plain")), smtp_server)
    user = world.signup("ada@example.com")  # its verification mail is queued, not sent yet
    headers = world.login("ada@example.com")
    change = {"new_email": "new@example.com", "current_password": PASSWORD}
    assert world.client.post("/me/email", json=change, headers=headers).status_code == 202
    with world.app.app_context():
        assert mail_outbox.collection().count_documents({}) == 2
    deleted = world.client.delete("/me", json={"password": PASSWORD}, headers=headers)
    assert deleted.status_code == 202
    world.app.extensions["account_deletions"].executor.shutdown(wait=True)
    with world.app.app_context():
        assert mail_outbox.collection().count_documents({}) == 0
        assert email_tokens.collection().count_documents({"user_id": object_id(user["id"])}) == 0


def test_money_records_stay_and_subscriptions_end(app, client, accounts, library):
    """Purchases and ledger entries outlive the account (naming its tombstone); every
    subscription it held or sold ends, so none renews; its courses and plan go."""
    creator_id = object_id(library.owner["user"]["id"])
    fan = accounts.user_with_token("viewer")
    fan_id = object_id(fan["user"]["id"])
    later = utcnow() + timedelta(days=20)
    with app.app_context():
        db = get_db()
        db.purchases.insert_one({"user_id": fan_id, "status": "succeeded", "amount": 999})
        db.ledger.insert_one({"_id": "pay_1:sale", "creator_id": creator_id, "gross": 999})
        for user_id, holding in ((fan_id, "fan:creator"), (creator_id, "creator:other")):
            db.subscriptions.insert_one(
                {
                    "user_id": user_id,
                    "creator_id": creator_id if user_id == fan_id else fan_id,
                    "status": "active",
                    "current_period_end": later,
                    "holding": holding,
                }
            )
        db.courses.insert_one({"owner_id": creator_id, "title": "c", "video_ids": []})
        db.subscription_plans.insert_one({"_id": creator_id, "price": 500})

    assert delete_me(client, library.owner).status_code == 202
    jobs_done(app)

    with app.app_context():
        db = get_db()
        assert db.purchases.count_documents({"user_id": fan_id}) == 1
        assert db.ledger.count_documents({"creator_id": creator_id}) == 1
        ended = list(db.subscriptions.find({}))
        assert [s["status"] for s in ended] == ["ended", "ended"]
        assert not any("holding" in s for s in ended)
        assert db.courses.count_documents({"owner_id": creator_id}) == 0
        assert db.subscription_plans.count_documents({}) == 0
