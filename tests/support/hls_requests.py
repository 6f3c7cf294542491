"""Requests to the HLS routes as a player makes them: each URI resolved against the
playlist that named it, the token in its query."""

from urllib.parse import urlsplit

PLAYLIST = "application/vnd.apple.mpegurl"


def get(client, url, **headers):
    """GET a playlist URI as a player resolves it: relative to the page that named it."""
    parts = urlsplit(url)
    return client.get(parts.path, query_string=parts.query, headers=headers)


def base(video):
    return f"http://localhost/video/{video['id']}/hls/"


def master_url(video, token):
    return f"{base(video)}master.m3u8?token={token}"


def lines(response):
    return response.get_data(as_text=True).splitlines()


def uris(response):
    return [line for line in lines(response) if line and not line.startswith("#")]
