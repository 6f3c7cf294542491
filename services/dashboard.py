"""The home feed the React Native app shows: ready public videos, newest first.

Each item is services.library.listed with a playback token: an item the caller may not
watch is ``locked`` (no playback token; its thumbnail signed with a preview token).
"""

from models import video as videos
from services import access, library, pagination, reactions

SCOPE = pagination.list_scope("dashboard")


def feed(caller, per_page, cursor=None):
    def read_page(after, window):
        return videos.catalogue_page(per_page, after, window)

    found, body = pagination.list_page(SCOPE, cursor, per_page, read_page)
    check, mine = access.watch_checker(caller), reactions.mine_among(caller, found)
    items = pagination.built_items(
        found, lambda video: library.listed(caller, video, check, mine, playable=True)
    )
    return items, body
