"""gunicorn's worker_exit hook: a worker that leaves writes what only its memory holds (the
audit entries it queued and the engagement counters it merged) before it goes."""

import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from bson import ObjectId

from models import daily_stats
from models.db import get_db

ROOT = Path(__file__).resolve().parent.parent


def gunicorn_settings():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_leaving_worker_writes_its_audit_entries_and_counters(app):
    video_id, owner_id = ObjectId(), ObjectId()
    with app.app_context():
        daily_stats.add(video_id, owner_id, datetime.now(UTC), views=3)
        app.extensions["audit_log"].submit({"_id": ObjectId(), "at": datetime.now(UTC)})
        gunicorn_settings().worker_exit(None, SimpleNamespace(wsgi=app))
        database = get_db()
        assert database.video_days.find_one({"video_id": video_id})["views"] == 3
        assert database.audit_log.count_documents({}) == 1
    assert app.extensions["counters"]._stopping.is_set()
    assert app.extensions["audit_log"]._stopping.is_set()


def test_a_worker_without_an_app_is_left_alone():
    gunicorn_settings().worker_exit(None, SimpleNamespace(wsgi=None))
