"""The home feed the React Native app shows: ready public videos, newest first."""

from models import video as videos
from services import pagination, playback_tokens, urls

SCOPE = pagination.list_scope("dashboard")


def feed(caller, per_page, cursor=None):
    def read_page(after, window):
        return videos.catalogue_page(per_page, after, window)

    found, body = pagination.list_page(SCOPE, cursor, per_page, read_page)
    return pagination.built_items(found, lambda video: _item(caller, video)), body


def _item(caller, video):
    token = playback_tokens.issue(caller, video["_id"], video.get("duration")).token
    return {**video, "playback_token": token, "thumbnail_url": urls.thumbnail_url(video, token)}
