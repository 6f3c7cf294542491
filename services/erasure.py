"""The steps of an account deletion's job (services.account_deletion runs them under a lease).

Every step is idempotent, so a job that resumes a dead one's deletion runs them all again.
The videos go one by one, a lease check between two, and once more at the end: an upload
accepted while the job ran (its owner was still signed in when it began) is removed too.
"""

import logging
from datetime import timedelta

from models import deleted_account as tombstones
from models import hls, media_file
from models import subscription as subscriptions
from models import user as users
from models import video as videos
from models.common import as_utc, utcnow
from services import reactions
from services.media.lease import LeaseLost

log = logging.getLogger(__name__)

BATCH = 20


def remove_account(user_id, lease):
    """The user document (again: a process may have died between tombstone and delete)."""
    users.remove(user_id)


def remove_videos(user_id, lease):
    """Every video of the account, in any state, with its GridFS files."""
    while batch := videos.ids_of_owner(user_id, BATCH):
        for video_id in batch:
            remove_video(video_id)
            lease.check()


def remove_video(video_id):
    video = videos.find(video_id)
    if video is None:
        return
    media_file.delete(
        video.get("source_file_id"), video.get("media_file_id"), video.get("thumbnail_file_id")
    )
    hls.delete_video_ladders(video_id)  # its HLS segments and keys
    videos.remove(video_id)
    reactions.forget_video(video_id)  # everyone's reactions to it


def remove_owned(user_id, lease):
    """Sessions, views: models.deleted_account.OWNED_BY_ACCOUNT."""
    tombstones.remove_owned(user_id)


def remove_reactions(user_id, lease):
    """The account's reactions, each cleared as its DELETE would be: the counts of the
    videos it reacted to go down, so they stay equal to the stored reactions."""
    reactions.remove_all_of(user_id, BATCH, lease.check)


def end_subscriptions(user_id, lease):
    """Subscriptions the account held or sold end now: none renews after the account. Its
    purchases and ledger entries stay (money records), naming the tombstone's ``_id``."""
    subscriptions.end_all_of(user_id, "account_deleted")


STEPS = (
    remove_account,
    end_subscriptions,
    remove_videos,
    remove_owned,
    remove_reactions,
    remove_videos,
)


def run(user_id, lease, steps=STEPS, hours=24):
    """Run the deletion of ``user_id`` whose lease this job holds; True when it finished.
    One requested more than ``hours`` (ACCOUNT_DELETION_HOURS) ago is logged as an error."""
    tombstone = tombstones.find(user_id)
    if tombstone and as_utc(tombstone["deleted_at"]) + timedelta(hours=hours) < utcnow():
        log.error("the deletion of account %s is overdue", user_id)
    try:
        for step in steps:
            step(user_id, lease)
            lease.check()
    except LeaseLost:
        log.warning("the deletion lease of %s was lost; its new holder goes on", user_id)
        return False
    except Exception:
        log.warning("deleting account %s stopped; the sweep resumes it", user_id, exc_info=True)
        return False
    if lease.finish():
        log.info("account %s deleted", user_id)
        return True
    return False
