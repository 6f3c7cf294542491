"""The seed's engagement (development only): a fortnight of views, unique viewers, watch time
and completions on the demo videos, the demo accounts' reactions, and the demo viewer's watch
progress, so the analytics reports, continue-watching and the history show something on
``make run`` (docs/analytics.md, docs/engagement.md, docs/progress.md).

Everything goes through the app's own functions, never by writing their documents:

- the past days (``record_history``) through the view counting's own writes with the day's
  moment: ``models.video.add_view``, ``models.daily_stats.add`` and
  ``models.daily_stats.count_viewer`` (the demo accounts are the unique viewers), plus the
  day's ``watch_seconds`` and ``completions``. The days are made up (the seed cannot wait a
  fortnight) but add up as the app's own would: a video's ``views`` equals its days' sum, a
  day's unique viewers are real accounts that may watch it, completions never exceed views.
- reactions and progress (``engage``) through services.reactions.react and
  services.progress.report, with their access rules: they need the videos processed, so
  ``engage_when_ready`` waits for that (``make run`` runs it on a daemon thread).

Idempotent: a video's days are written once (the video's ``seed_history`` says when; it is
set before the writes, so a crash leaves a few days short rather than ever doubled), and a
reaction or progress entry that exists is left alone.
"""

import logging
import random
import threading
import time
from datetime import UTC, datetime, timedelta

from demo import money
from models import daily_stats
from models import progress as progress_entries
from models import video as videos
from models.common import utcnow
from services import progress, reactions
from services.errors import ServiceError

log = logging.getLogger("seed")

VIEWER_EMAIL = "viewer@example.com"
HISTORY_DAYS = 14  # the last 14 days, today included
WAIT_SECONDS = 600
# Who watched each demo video on the past days: accounts that may watch it (the paid and
# subscribers' ones only the buyer; the unlisted one the admin, who sees everything).
AUDIENCE = {
    "demo-sunrise": ("viewer", "buyer", "admin"),
    "demo-ocean": ("viewer", "buyer", "admin"),
    "demo-forest": ("viewer", "buyer", "admin"),
    "demo-unlisted": ("admin",),
    "demo-subscribers": ("buyer",),
    money.PAID_VIDEO_KEY: ("buyer",),
}
# (account, video key, value): through PUT /video/{id}/reaction's service.
REACTIONS = [
    ("viewer", "demo-sunrise", "like"),
    ("viewer", "demo-ocean", "like"),
    ("viewer", "demo-forest", "dislike"),
    ("buyer", "demo-sunrise", "like"),
    ("buyer", "demo-ocean", "dislike"),
    ("buyer", "demo-subscribers", "like"),
    ("admin", "demo-sunrise", "like"),
    ("admin", "demo-forest", "like"),
]
# (account, video key, fraction of the duration): through PUT /video/{id}/progress's service.
# The viewer is part-way through two (continue-watching) and has finished one (the history).
PROGRESS = [
    ("viewer", "demo-sunrise", 0.4),
    ("viewer", "demo-forest", 0.25),
    ("viewer", "demo-ocean", 1.0),
    ("buyer", "demo-subscribers", 0.5),
]


def accounts(config):
    """{name: services Caller} of the demo accounts that engage (those that exist)."""
    emails = {"viewer": VIEWER_EMAIL, "buyer": money.BUYER_EMAIL, "admin": config["ADMIN_EMAIL"]}
    found = {name: money.caller_of(email or "") for name, email in emails.items()}
    return {name: caller for name, caller in found.items() if caller is not None}


def history_days(today=None):
    """The seeded days, oldest first: HISTORY_DAYS of them ending today (UTC)."""
    today = today or utcnow().date()
    return [today - timedelta(days=back) for back in range(HISTORY_DAYS - 1, -1, -1)]


def day_of_views(key, day, audience, duration):
    """A made-up but consistent day of one video: {user name: [fraction watched per view]}
    (the same every run: seeded by the video and the day)."""
    chance = random.Random(f"{key}:{day.isoformat()}")
    watched = {}
    for name in audience:
        views = chance.choice((0, 1, 1, 2, 3))
        if views:
            watched[name] = [round(chance.uniform(0.3, 1.0), 2) for _ in range(views)]
    return watched


def record_history(config, seconds, today=None):
    """The past days of every seeded video not yet given them; the ids of those it did.
    ``seconds`` is {video key: length}: the length a video was made with, for those still
    processing (no ``duration`` yet)."""
    callers = accounts(config)
    done = []
    for key, audience in AUDIENCE.items():
        video = money.seeded_video(key)
        if video is None or video.get("seed_history"):
            continue
        days = history_days(today)
        videos.update(video["_id"], seed_history=f"{days[0]}..{days[-1]}")  # before: never twice
        for day in days:
            watchers = {name: callers[name] for name in audience if name in callers}
            _record_day(video, day, watchers, video.get("duration") or seconds[key])
        done.append(video["_id"])
    return done


def _record_day(video, day, callers, duration):
    """One day of one video, written as the view counting and the progress reports would."""
    moment = min(datetime(day.year, day.month, day.day, 12, tzinfo=UTC), utcnow())
    watched = day_of_views(video["seed_key"], day, sorted(callers), duration)
    fractions = [fraction for views in watched.values() for fraction in views]
    if not fractions:
        return
    for _ in fractions:
        videos.add_view(video["_id"])
    daily_stats.add(
        video["_id"],
        video["owner_id"],
        moment,
        views=len(fractions),
        watch_seconds=sum(int(fraction * duration) for fraction in fractions),
        completions=sum(1 for fraction in fractions if fraction >= progress.FINISHED),
    )
    for name in watched:
        daily_stats.count_viewer(video["_id"], video["owner_id"], callers[name].user["_id"], moment)


def engage(config):
    """The demo reactions and watch progress, through the services (the videos ready); each
    one only when its account has none yet for that video."""
    callers = accounts(config)
    for name, key, value in REACTIONS:
        video = money.seeded_video(key)
        if name in callers and video and reactions.mine(callers[name], video) is None:
            _try(reactions.react, callers[name], str(video["_id"]), value)
    for name, key, fraction in PROGRESS:
        video = money.seeded_video(key)
        if name not in callers or video is None:
            continue
        if progress_entries.find(callers[name].user["_id"], video["_id"]) is None:
            position = round((video.get("duration") or 0) * fraction, 3)
            _try(progress.report, callers[name], str(video["_id"]), position)


def _try(action, caller, video_id, value):
    try:
        action(caller, video_id, value)
    except ServiceError as error:
        log.warning("demo %s on %s refused: %s", action.__name__, video_id, error.code)


def ready_videos(timeout):
    """True once no seeded video is still processing (polled); False after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        pending = videos.collection().count_documents(
            {"seed_key": {"$in": list(AUDIENCE)}, "status": {"$nin": [videos.READY, videos.FAILED]}}
        )
        if not pending:
            return True
        if time.monotonic() >= deadline:
            log.warning("%d demo video(s) still processing: no demo reactions or progress", pending)
            return False
        time.sleep(0.5)


def engage_when_ready(app, timeout=WAIT_SECONDS):
    """``engage`` once the demo videos are processed; True if it ran."""
    with app.app_context():
        if not ready_videos(timeout):
            return False
        engage(app.config)
        return True


def engage_in_background(app):
    """``engage_when_ready`` on a daemon thread (``make run``: the server starts meanwhile)."""
    thread = threading.Thread(
        target=engage_when_ready, args=(app,), name="seed-engagement", daemon=True
    )
    thread.start()
    return thread
