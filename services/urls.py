"""Absolute, signed URLs that work with no header (players, <Image>, WebViews).

Built from PUBLIC_BASE_URL when set, else from the host the client called
(X-Forwarded-Proto/Host/Prefix honoured by ProxyFix in app.py).
"""

from urllib.parse import urlencode

from flask import current_app, request


def base_url():
    configured = current_app.config.get("PUBLIC_BASE_URL")
    return (configured or request.host_url).rstrip("/")


def media_url(video_id, token):
    return f"{base_url()}/video/{video_id}/media?{urlencode({'token': token})}"


def thumbnail_url(video, token):
    if not video.get("thumbnail_file_id"):
        return None
    return f"{base_url()}/video/{video['_id']}/thumbnail?{urlencode({'token': token})}"


def hls_url(video, token):
    """The master playlist of the video's HLS ladder, or None while it has none (audio, a
    video made before ladders, or one whose ladder failed: the progressive file plays)."""
    if not (video.get("hls") or {}).get("ladder"):
        return None
    return f"{base_url()}/video/{video['_id']}/hls/master.m3u8?{urlencode({'token': token})}"
