"""HLS playlists (RFC 8216), as text, from what is stored about a ladder: no I/O.

Playlists are written per request because every URI in them carries the
viewer's playback token, in the query (never the path: proxies and the
request log keep paths). Every URI is relative, so it resolves against the
address the player actually used, whatever proxy or prefix is in front:

    master.m3u8 -> 720p/index.m3u8?token=T
    720p/index.m3u8 -> 00000.ts?token=T, and the key at ../key?token=T

EXT-X-VERSION is 3, the lowest the tags need: an IV attribute needs 2,
decimal EXTINF durations 3; nothing here needs more (no byte ranges, no
EXT-X-MAP, no KEYFORMAT).
"""

import math
from urllib.parse import quote

VERSION = 3
MEDIA_PLAYLIST = "index.m3u8"  # each rendition's, in a folder named after the rendition
KEY_URI = "../key"  # from a media playlist, the ladder's key
IV_BYTES = 16


def token_query(token):
    """``?token=...``, URL-encoded whatever the token holds."""
    if not token:
        raise ValueError("a playlist needs the playback token its URIs carry")
    return "?token=" + quote(str(token), safe="")


def segment_name(n):
    """The file name of segment ``n`` of a rendition, relative to its media playlist."""
    return f"{int(n):05d}.ts"


def extinf(duration):
    """The duration as written after #EXTINF (microseconds, like FFmpeg's muxer)."""
    if not duration > 0:
        raise ValueError(f"a segment cannot last {duration!r} s")
    return f"{duration:.6f}"


def target_duration(durations):
    """EXT-X-TARGETDURATION: every EXTINF, as written and rounded half up, fits in it."""
    return max(math.floor(float(extinf(duration)) + 0.5) for duration in durations)


def bandwidths(segments):
    """(BANDWIDTH, AVERAGE-BANDWIDTH) in bit/s of ``segments`` [{size, duration}]:
    the peak segment's rate and the whole rendition's, rounded up (a player that
    can sustain them never stalls on this rendition)."""
    if not segments:
        raise ValueError("a rendition has at least one segment")
    peak = max(segment["size"] * 8 / segment["duration"] for segment in segments)
    total_bits = sum(segment["size"] * 8 for segment in segments)
    total_seconds = sum(segment["duration"] for segment in segments)
    return math.ceil(peak), math.ceil(total_bits / total_seconds)


def iv_hex(iv):
    """``0x`` + 32 hex digits, from 16 bytes or their hex spelling."""
    raw = bytes.fromhex(iv.removeprefix("0x")) if isinstance(iv, str) else bytes(iv)
    if len(raw) != IV_BYTES:
        raise ValueError(f"an AES-128 IV is {IV_BYTES} bytes, not {len(raw)}")
    return "0x" + raw.hex()


def master_playlist(renditions, token):
    """The multivariant playlist: one EXT-X-STREAM-INF per rendition, in the order given.

    ``renditions``: [{name, bandwidth, average_bandwidth, width, height, codecs,
    frame_rate}], as the ladder's summary stores them."""
    if not renditions:
        raise ValueError("a master playlist lists at least one rendition")
    query = token_query(token)
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{VERSION}", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for rendition in renditions:
        lines.append(_stream_inf(rendition))
        lines.append(f"{quote(rendition['name'], safe='')}/{MEDIA_PLAYLIST}{query}")
    return "\n".join(lines) + "\n"


def _stream_inf(rendition):
    attributes = [
        f"BANDWIDTH={int(rendition['bandwidth'])}",
        f"AVERAGE-BANDWIDTH={int(rendition['average_bandwidth'])}",
        f"RESOLUTION={int(rendition['width'])}x{int(rendition['height'])}",
        f'CODECS="{_checked_codecs(rendition["codecs"])}"',
        f"FRAME-RATE={float(rendition['frame_rate']):.3f}",
    ]
    return "#EXT-X-STREAM-INF:" + ",".join(attributes)


def _checked_codecs(codecs):
    # A quoted-string may not hold '"', CR or LF (RFC 8216 4.2): never let one through.
    if any(character in codecs for character in '"\r\n'):
        raise ValueError("a CODECS list cannot hold quotes or line breaks")
    return codecs


def media_playlist(segments, token, key_uri=KEY_URI):
    """A rendition's VOD playlist, every segment AES-128 encrypted with its own IV.

    ``segments``: [{n, duration, iv}] in playback order, n counting from the
    first. The key tag is repeated before each segment because the IV changes;
    the key URI stays the same, so players fetch the key once."""
    if not segments:
        raise ValueError("a media playlist lists at least one segment")
    query = token_query(token)
    key = f"{key_uri}{query}"
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{VERSION}",
        f"#EXT-X-TARGETDURATION:{target_duration(s['duration'] for s in segments)}",
        f"#EXT-X-MEDIA-SEQUENCE:{int(segments[0]['n'])}",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    for segment in segments:
        lines.append(f'#EXT-X-KEY:METHOD=AES-128,URI="{key}",IV={iv_hex(segment["iv"])}')
        lines.append(f"#EXTINF:{extinf(segment['duration'])},")
        lines.append(f"{segment_name(segment['n'])}{query}")
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
