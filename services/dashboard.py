"""The home feed the React Native app shows: ready public videos, newest first."""

from models import video as videos
from services import playback_tokens, urls


def feed(principal, page, per_page):
    found, pagination = videos.page_of_videos(videos.catalogue_query(), page, per_page)
    return [_item(principal, video) for video in found], pagination


def _item(principal, video):
    token = playback_tokens.issue(principal, video["_id"], video.get("duration")).token
    return {**video, "playback_token": token, "thumbnail_url": urls.thumbnail_url(video, token)}
