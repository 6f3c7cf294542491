"""Demo data: the admin, demo accounts (development) and a few real demo videos.

Idempotent: a second run adds nothing and charges nothing. The videos are made on the fly
(a moving picture and a tone, H.264 + AAC) and go through the same upload pipeline as any
user's upload ("Forest Walk" as a resumable tus upload, in pieces). ``make run`` seeds an
empty database; run ``python seed_videos.py`` to seed by hand (it waits for processing).

In development the demo videos include a paid one and a subscribers' one, and demo/money.py
adds the money: the demo creator's plan, a priced course, and buyer@example.com's
subscription and purchase of the paid video, paid through the payment provider (sandbox).
demo/engagement.py adds the engagement: a fortnight of views and watch time on the demo
videos (at once), then, once they are processed, the demo accounts' reactions and the demo
viewer's watch progress, so the analytics, continue-watching and the history show something.
"""

import io
import logging
import tempfile
from pathlib import Path

from demo import engagement, money, synthetic_media
from models import user as users
from models import video as videos
from models.db import get_db
from models.vocabulary import CREATOR, PAID, PUBLIC, SUBSCRIBERS, UNLISTED, VIEWER
from services import accounts
from services.access import Caller
from services.errors import Conflict
from services.media import resumable, uploads

log = logging.getLogger("seed")
RESUMABLE_PIECE = 256 * 1024  # a phone's tus client would send a few MB; the demo is small

DEMO_PASSWORD = "demo-password"
DEMO_ACCOUNTS = [
    {"name": "Demo Creator", "email": "creator@example.com", "role": CREATOR},
    {"name": "Demo Viewer", "email": "viewer@example.com", "role": VIEWER},
    # Has bought the paid demo video and subscribes to the demo creator (demo/money.py).
    {"name": "Demo Buyer", "email": money.BUYER_EMAIL, "role": VIEWER},
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
        # Sent as a phone on a mobile network would: a resumable (tus) upload in pieces.
        "resumable": True,
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
# Development only (they need the demo creator's plan and buyers): the money's demo videos.
MONEY_VIDEOS = [
    {
        "key": "demo-subscribers",
        "title": "Members' Lounge",
        "seconds": 10,
        "hue": 40,
        "frequency": 587.33,
        "category": "demo",
        "description": "For subscribers of the demo creator.",
        "access": SUBSCRIBERS,
    },
    {
        "key": money.PAID_VIDEO_KEY,
        "title": "Premium Sunset",
        "seconds": 10,
        "hue": 330,
        "frequency": 349.23,
        "category": "demo",
        "description": "A paid video: buy it, or the Demo Course that holds it.",
        "access": PAID,
        "price": 299,
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


def seed_videos(owner, workdir, specs=DEMO_VIDEOS):
    added = []
    for spec in specs:
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
            **{name: spec[name] for name in ("access", "price") if name in spec},
        }
        accept = accept_resumably if spec.get("resumable") else uploads.accept
        video = accept(owner, path, path.name, fields)
        videos.update(video["_id"], seed_key=spec["key"])
        added.append(video["_id"])
    return added


def accept_resumably(owner, path, filename, fields):
    """The resumable upload's way (docs/uploads.md): created with its fields, then appended
    in pieces, each where the last stopped; the last piece makes the video."""
    caller = Caller(owner, session_id="seed")
    upload = resumable.create(owner, path.stat().st_size, fields, filename)
    with open(path, "rb") as source:
        while piece := source.read(RESUMABLE_PIECE):
            body = (io.BytesIO(piece), len(piece))
            upload = resumable.receive(caller, upload["_id"], upload["offset"], body)
    return videos.find(upload["video_id"])


def seed(app, sell=money.sell_when_ready, engage=engagement.engage_when_ready):
    """Everything above, once; returns the ids of the videos it queued. In development,
    ``sell(app)`` then makes the buyer's purchase of the paid video, and ``engage(app)`` the
    demo reactions and progress, once the videos are ready: by default each waits for that
    (``make run`` passes money.sell_in_background and engagement.engage_in_background)."""
    development = app.config["APP_ENV"] == "development"
    with app.app_context():
        get_db()  # runs start-up tasks, the admin among them
        if development:
            ensure_demo_accounts()
        owner = uploader(app.config)
        if owner is None:
            log.warning("no account to own the demo videos (set ADMIN_EMAIL/ADMIN_PASSWORD)")
            return []
        specs = DEMO_VIDEOS + MONEY_VIDEOS if development else DEMO_VIDEOS
        with tempfile.TemporaryDirectory(prefix="seed-") as workdir:
            added = seed_videos(owner, Path(workdir), specs)
        if development:
            money.ensure_catalogue()
            engagement.record_history(app.config, {spec["key"]: spec["seconds"] for spec in specs})
    if development:
        sell(app)
        engage(app)
    return added


def seed_if_empty(app, sell=money.sell_in_background, engage=engagement.engage_in_background):
    """``make run``'s seed: only into an empty database, and without waiting for processing."""
    with app.app_context():
        if get_db().videos.estimated_document_count():
            return []
    return seed(app, sell, engage)


def main():
    from app import create_app

    logging.basicConfig(level=logging.INFO)
    app = create_app()
    added = seed(app)  # in development, waits for the purchase, the reactions and progress
    app.extensions["media_jobs"].executor.shutdown(wait=True)
    print(f"seeded {len(added)} demo video(s)")


if __name__ == "__main__":
    main()
