"""services/user_agents.describe: a device's name from its User-Agent, never the raw header."""

import pytest

from services.user_agents import MAX_DEVICE_LENGTH, UNKNOWN, describe

CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
CHROME_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1"
)
FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (CHROME_MAC, "Chrome on macOS"),
        (EDGE_WINDOWS, "Edge on Windows"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (CHROME_IPAD, "Chrome on iPad"),
        (FIREFOX_ANDROID, "Firefox on Android"),
        (FIREFOX_LINUX, "Firefox on Linux"),
        ("okhttp/4.9.2", "okhttp (Android app)"),
        ("VideoApp/42 CFNetwork/1494.0.7 Darwin/23.4.0", "VideoApp (iOS app)"),
        ("Dart/3.3 (dart:io)", "Dart (Flutter app)"),
        ("curl/8.5.0", "curl"),
        ("PostmanRuntime/7.37.3", "PostmanRuntime"),
        ("", UNKNOWN),
        (None, UNKNOWN),
        ("\u202e<script>", UNKNOWN),
    ],
)
def test_known_agents_get_their_names(user_agent, device):
    assert describe(user_agent) == device


@pytest.mark.parametrize(
    "user_agent",
    [
        "A" * 10_000,
        "x" * 39 + "\u202e\n<b>evil</b>" + "y" * 500,
        "Mozilla/5.0 " + "(" * 5000,
        "bot\u0000\u0085/1.0",
    ],
)
def test_the_name_is_bounded_and_made_of_plain_characters(user_agent):
    device = describe(user_agent)
    assert 0 < len(device) <= MAX_DEVICE_LENGTH
    assert all(character.isalnum() or character in " ._-()" for character in device)


def test_an_unknown_product_is_named_by_at_most_40_of_its_characters():
    assert describe("A" * 10_000) == "A" * 40
