"""Every query the hot routes send is served by an index the code creates.

The queries are the real ones: a pymongo command listener records each ``find``, ``update``,
``delete``, ``count`` and ``aggregate`` the app sends while a client goes through login, me, the
dashboard and its next page, reactions (set, switched, cleared), watch progress and its lists, the
audit log with each filter, the signed-in devices (listed, one and the others ended, a session's
last use noted), an account's export (paged) and deletion (its job), the catalogue with each
filter and search, admin users, a video, its stream JSON, media and thumbnail, and the queries
every process runs at start-up and every 30 s (the processing and account-deletion sweeps, the
keywords, share-key and session-address migrations, the HLS ladders' queue) or 15 s (the mail
sender's round). A second test records what ``worker.py`` sends (its claims of a queued upload
and of a queued ladder job, both jobs run to the end, leases renewed and progress reported) and
what an HLS player's requests read (master and media playlists, a segment and a range of one,
the key). Each is checked against the indexes that start-up made (``index_information``) by
MongoDB's rule for a query an index serves without a blocking sort: its equality fields are the
index's leading fields, then its sort keys in order (or all reversed), and its range fields come
after them; an equality on ``_id`` finds one document at most, whatever else the query checks on
it. So it runs on the embedded server, without MongoDB 7, and fails when a query changes shape or
an index goes. A partial index serves only a query that names its filter's values.
"""

from datetime import datetime

import pytest
from bson import ObjectId

from models import db, export, ladder_jobs, mail_outbox
from models import hls as ladders
from models import session as sessions
from models import video as videos
from models.common import utcnow
from services import tokens
from services.mail.sender import MailSender
from services.media.jobs import MediaJobs
from tests.support.accounts import PASSWORD, Accounts, Library
from tests.support.catalogue import catalogue_documents, insert_videos
from tests.support.mail import free_port
from tests.support.query_indexes import Query, indexes_of, recording_queries, served_by, unserved
from tests.support.uploads import upload


@pytest.fixture
def recorder(monkeypatch):
    return recording_queries(monkeypatch)


def test_the_rule_itself():
    catalogue = [("status", 1), ("visibility", 1), ("created_at", -1), ("_id", -1)]
    newest = {"created_at": -1, "_id": -1}
    window = {"created_at": {"$gte": 1, "$lte": 2}}
    ok = Query("videos", {"visibility": "public", "status": "ready", **window}, newest)
    assert served_by(catalogue, ok)
    assert served_by(catalogue, Query("videos", ok.filter, {"created_at": 1, "_id": 1}))
    assert not served_by(catalogue, Query("videos", ok.filter, {"created_at": -1, "_id": 1}))
    assert not served_by(catalogue, Query("videos", {"status": "ready", **window}, newest))
    assert not served_by(
        catalogue, Query("videos", {**ok.filter, "title": {"$regex": "x"}}, newest)
    )
    assert not served_by(catalogue, Query("videos", {"$or": [{"status": "ready"}]}, {}))
    assert not served_by([("created_at", -1)], Query("videos", ok.filter, newest))
    one = Query("recent_views", {"_id": "u:v", "counted_at": {"$lte": 1}}, {})
    assert served_by([("_id", 1)], one)
    assert not served_by([("_id", 1)], Query("recent_views", {"counted_at": {"$lte": 1}}, {}))
    claim = {"_id": 1, "status": "processing", "$or": [{"lease_until": None}]}
    assert served_by([("_id", 1)], Query("videos", claim, {}))
    assert not served_by([("status", 1)], Query("videos", claim, {}))
    segments = [("metadata.video_id", 1), ("metadata.n", 1)]
    role = {"metadata.role": "hls_segment"}
    mine = Query("fs.files", {"metadata.video_id": 1, **role}, {"metadata.n": 1})
    assert served_by(segments, mine, role)
    assert not served_by(segments, Query("fs.files", {"metadata.video_id": 1}, {}), role)
    other = {"metadata.video_id": 1, "metadata.role": "thumbnail"}
    assert not served_by(segments, Query("fs.files", other, {}), role)


@pytest.mark.parametrize("backend", ["embedded"])
def test_every_hot_query_has_an_index(recorder, make_app, backend, media, monkeypatch):
    app = make_app()
    client = app.test_client()
    accounts = Accounts(client, app)
    library = Library(app, client, accounts)
    video = library.ready_video(media["h264"], title="Piano jazz night", category="music")
    creator = library.owner["user"]["id"]
    listed = catalogue_documents(ObjectId(creator), 60)
    insert_videos(app, listed)
    viewer = accounts.user_with_token()
    admin = accounts.bearer(accounts.login("admin@test.example", "admin-test-password"))
    headers = accounts.bearer(viewer)
    token = library.playback_token(video["id"], viewer)

    with app.app_context():  # as if its last use were long ago: the next request notes it
        sid = ObjectId(tokens.decode(viewer["token"], tokens.ACCESS)["sid"])
        db.get_db().sessions.update_one(
            {"_id": sid}, {"$set": {"last_used_at": datetime(2020, 1, 1)}}
        )
    spare = accounts.login(viewer["user"]["email"])

    recorder.recording = True
    accounts.login(viewer["user"]["email"])
    # Watch progress (docs/progress.md): a first report and a later one of two videos.
    for video_id in (video["id"], str(listed[0]["_id"])) * 2:
        reporting = client.put(
            f"/video/{video_id}/progress", json={"position_seconds": 1.0}, headers=headers
        )
        assert reporting.status_code == 204, reporting.json
    calls = [
        ("/auth/me", headers),
        ("/me/sessions", headers),
        ("/dashboard?per_page=5", headers),
        ("/videos?per_page=5", headers),
        ("/videos?q=clip", headers),
        ("/videos?q=piano+ja", headers),
        ("/videos?category=news", headers),
        (f"/videos?creator={creator}", headers),
        (f"/videos?creator={creator}&category=music&q=pia", headers),
        ("/admin/users?per_page=2", admin),
        ("/me/continue-watching?per_page=1", headers),
        ("/me/history?per_page=1", headers),
        ("/admin/users?role=viewer", admin),
        ("/admin/audit?per_page=2", admin),
        (f"/admin/audit?per_page=1&actor={creator}", admin),
        ("/admin/audit?per_page=1&action=auth.login&from=2020-01-01&to=2099-01-01", admin),
        (f"/admin/audit?target=video:{video['id']}", admin),
        (
            f"/admin/audit?per_page=1&actor={creator}&action=auth.login&target_type=user"
            f"&target_id={creator}",
            admin,
        ),
        (f"/video/{video['id']}", headers),
        (f"/video/{video['id']}/stream?token={token}", headers),
        (f"/video/{video['id']}/thumbnail?token={token}", {}),
    ]
    for path, call_headers in calls:
        response = client.get(path, headers=call_headers)
        assert response.status_code == 200, (path, response.json)
        cursor = response.is_json and (response.json.get("pagination") or {}).get("next_cursor")
        if cursor:
            separator = "&" if "?" in path else "?"
            assert (
                client.get(f"{path}{separator}cursor={cursor}", headers=call_headers).status_code
                == 200
            )
    media_response = client.get(
        f"/video/{video['id']}/media?token={token}", headers={"Range": "bytes=0-1"}
    )
    assert media_response.status_code == 206
    with app.app_context():
        spare_sid = tokens.decode(spare["token"], tokens.ACCESS)["sid"]
    assert client.delete(f"/me/sessions/{spare_sid}", headers=headers).status_code == 200
    assert client.delete("/me/sessions", headers=headers).status_code == 200
    # Reactions: set, switched, cleared; the creator's stays for its export and deletion.
    reaction = f"/video/{video['id']}/reaction"
    for value in ("like", "dislike"):
        assert client.put(reaction, json={"value": value}, headers=headers).status_code == 200
    assert client.delete(reaction, headers=headers).status_code == 200
    # The creator's export, page by page (61 videos), then its deletion and the job's queries.
    monkeypatch.setattr(export, "PAGE", 25)
    owner = accounts.bearer(library.owner)
    assert client.put(reaction, json={"value": "like"}, headers=owner).status_code == 200
    assert client.get("/me/export", headers=owner).get_data(as_text=True).count('"title"') == 61
    deleted = client.delete("/me", json={"password": PASSWORD}, headers=owner)
    assert deleted.status_code == 202
    app.extensions["account_deletions"].executor.submit(lambda: None).result(timeout=120)
    # What every process runs at start-up and every 30 s after.
    app.extensions["media_jobs"].sweep()
    app.extensions["account_deletions"].sweep()
    with app.app_context():
        db.get_db().migrations.delete_many({})
        videos.add_missing_keywords(db.get_db())
        sessions.drop_raw_addresses(db.get_db())
        db.get_db().videos.update_one({"_id": ObjectId(video["id"])}, {"$unset": {"share_key": 1}})
        videos.add_missing_share_keys(db.get_db())
        ladder_jobs.queue_missing_ladders(db.get_db())  # the HLS ladders' start-up queue
        # The mail sender's round: a due mail found, claimed, tried (nobody listens), put back.
        mail_outbox.insert(b"mail", "a@test.example", "b@test.example", "verify_email", utcnow())
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"
    MailSender(app).deliver_due()
    recorder.recording = False

    assert len(recorder.queries) > 40
    with app.app_context():
        indexes = indexes_of(db.get_db())
    assert unserved(recorder.queries, indexes) == []


@pytest.mark.parametrize("backend", ["embedded"])
def test_every_worker_and_hls_query_has_an_index(recorder, make_app, backend, media):
    api = make_app(PROCESSING_WORKERS=0)  # queues uploads; the worker below runs them
    client = api.test_client()
    accounts = Accounts(client, api)
    library = Library(api, client, accounts)
    backfilled = library.ready_video(media["h264"])  # ready before ladders: a ladder job's
    creator = accounts.bearer(library.owner)
    uploaded = upload(client, creator, media["moov_end"]).json["video"]["id"]
    viewer = accounts.user_with_token()

    recorder.recording = True
    with api.app_context():
        assert ladder_jobs.queue_missing_ladders(db.get_db()) == 1
    worker = MediaJobs(api, workers=2)  # what worker.py runs: the upload first, then the ladder
    assert worker.claim_free() == [ObjectId(uploaded), ObjectId(backfilled["id"])]
    worker.executor.shutdown(wait=True)
    assert worker.claim_free() == []
    for video_id in (uploaded, backfilled["id"]):
        token = library.playback_token(video_id, viewer)
        master = client.get(f"/video/{video_id}/hls/master.m3u8", query_string={"token": token})
        assert master.status_code == 200, master.json
        base = f"/video/{video_id}/hls/"
        for uri in _uris(master):
            playlist = client.get(base + uri.split("?")[0], query_string={"token": token})
            assert playlist.status_code == 200, playlist.json
            first = _uris(playlist)[0].split("?")[0]
            segment = f"{base}{uri.split('/')[0]}/{first}"
            assert client.get(segment, query_string={"token": token}).status_code == 200
            ranged = client.get(
                segment, query_string={"token": token}, headers={"Range": "bytes=188-375"}
            )
            assert ranged.status_code == 206
        assert client.get(f"{base}key", query_string={"token": token}).status_code == 200
    with api.app_context():  # a failed attempt's delete, and a purge's of every ladder
        made = db.get_db().videos.find_one({"_id": ObjectId(backfilled["id"])})["hls"]["ladder"]
        ladders.delete_ladder(ObjectId(backfilled["id"]), made)
        ladders.delete_video_ladders(ObjectId(uploaded))
    recorder.recording = False

    assert len(recorder.queries) > 20
    with api.app_context():
        indexes = indexes_of(db.get_db())
    assert unserved(recorder.queries, indexes) == []


def _uris(playlist):
    text = playlist.get_data(as_text=True)
    return [line for line in text.splitlines() if line and not line.startswith("#")]
