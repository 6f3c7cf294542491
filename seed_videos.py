"""Demo data: the admin, demo accounts (development) and a few real demo videos.

Idempotent: a second run adds nothing. The videos are made on the fly
(a moving picture and a tone, H.264 + AAC) and go through the same upload
pipeline as any user's upload. ``make run`` seeds an empty database; run
``python seed_videos.py`` to seed by hand (it waits for processing to end).
"""

import logging
import tempfile
from pathlib import Path

from demo import synthetic_media
from models import user as users
from models import video as videos
from models.db import get_db
from models.vocabulary import CREATOR, PUBLIC, UNLISTED, VIEWER
from services import accounts
from services.errors import Conflict
from services.media import uploads

log = logging.getLogger("seed")

DEMO_PASSWORD = "demo-password"
DEMO_ACCOUNTS = [
    {"name": "Demo Creator", "email": "creator@example.com", "role": CREATOR},
    {"name": "Demo Viewer", "email": "viewer@example.com", "role": VIEWER},
]
DEMO_VIDEOS = [
    {
        "key": "demo-sunrise",
        "title": "Sunrise Squares",
        "seconds": 12,
        "hue": 0,
        "frequency": 440.0,
        "category": "demo",
        "description": "A square crossing a warm sky.",
    },
    {
        "key": "demo-ocean",
        "title": "Ocean Drift",
        "seconds": 15,
        "hue": 120,
        "frequency": 523.25,
        "category": "demo",
        "description": "Cool colours and a high tone.",
    },
    {
        "key": "demo-forest",
        "title": "Forest Walk",
        "seconds": 20,
        "hue": 200,
        "frequency": 329.63,
        "category": "nature",
        "description": "A longer clip for seeking.",
    },
    {
        # Not in any list: its owner's view (GET /video/{id} as the demo creator) shows the
        # share key that lets anyone else open it (?key=).
        "key": "demo-unlisted",
        "title": "Hidden Valley",
        "seconds": 10,
        "hue": 280,
        "frequency": 392.0,
        "category": "demo",
        "description": "Unlisted: reachable only with its share key.",
        "visibility": UNLISTED,
    },
]


def ensure_demo_accounts():
    for account in DEMO_ACCOUNTS:
        try:
            accounts.signup(account["name"], account["email"], DEMO_PASSWORD, account["role"])
            log.info("demo account %s / %s", account["email"], DEMO_PASSWORD)
        except Conflict:
            pass


def uploader(config):
    """The account that owns the demo videos: the demo creator, else the admin."""
    email = "creator@example.com" if config["APP_ENV"] == "development" else config["ADMIN_EMAIL"]
    return users.find_by_email(email or "")


def seed_videos(owner, workdir):
    added = []
    for spec in DEMO_VIDEOS:
        if get_db().videos.find_one({"seed_key": spec["key"]}, {"_id": 1}):
            continue
        path = synthetic_media.write_video(
            workdir / f"{spec['key']}.mp4",
            seconds=spec["seconds"],
            width=640,
            height=360,
            hue=spec["hue"],
            frequency=spec["frequency"],
        )
        fields = {
            "title": spec["title"],
            "description": spec["description"],
            "category": spec["category"],
            "tags": ["demo"],
            "visibility": spec.get("visibility", PUBLIC),
        }
        video = uploads.accept(owner, path, path.name, fields)
        videos.update(video["_id"], seed_key=spec["key"])
        added.append(video["_id"])
    return added


def seed(app):
    """Everything above, once; returns the ids of the videos it queued."""
    with app.app_context():
        get_db()  # runs start-up tasks, the admin among them
        if app.config["APP_ENV"] == "development":
            ensure_demo_accounts()
        owner = uploader(app.config)
        if owner is None:
            log.warning("no account to own the demo videos (set ADMIN_EMAIL/ADMIN_PASSWORD)")
            return []
        with tempfile.TemporaryDirectory(prefix="seed-") as workdir:
            return seed_videos(owner, Path(workdir))


def seed_if_empty(app):
    with app.app_context():
        if get_db().videos.estimated_document_count():
            return []
    return seed(app)


def main():
    from app import create_app

    logging.basicConfig(level=logging.INFO)
    app = create_app()
    added = seed(app)
    app.extensions["media_jobs"].executor.shutdown(wait=True)
    print(f"seeded {len(added)} demo video(s)")


if __name__ == "__main__":
    main()
