"""What the real clients send, and how the tests check what they got."""

import subprocess
import uuid

SECONDS = 20  # the length of the video every player opens

# What an iPhone's AVPlayer (AppleCoreMedia) sends with each request.
AVPLAYER_HEADERS = {
    "User-Agent": "AppleCoreMedia/1.0.0.21A329 (iPhone; U; CPU OS 17_0 like Mac OS X; en_us)",
    "Accept": "*/*",
    "Accept-Encoding": "identity",
    "X-Playback-Session-Id": str(uuid.uuid4()).upper(),
}


def run(command, timeout=30):
    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    assert finished.returncode == 0, (
        f"{command[0]} exited {finished.returncode}:\n{finished.stderr}"
    )
    return finished


def frame_at(seconds, source, png):
    """ffmpeg seeks to ``seconds`` in ``source`` (a URL or a path) and writes one frame."""
    seek = ["-ss", str(seconds)]
    run(["ffmpeg", "-v", "error", "-y", *seek, "-i", str(source), "-frames:v", "1", str(png)])
    return png


def is_lavf(entry):
    return entry.user_agent.startswith("Lavf/")


def assert_range_honoured(entry, size):
    """A request that asked ``bytes=first-[last]`` got 206 with exactly that range."""
    first, last = entry.range_bounds
    last = size - 1 if last is None else min(last, size - 1)
    assert entry.status == 206, entry
    assert entry.content_range == f"bytes {first}-{last}/{size}", entry
    assert entry.content_length == last - first + 1, entry
