"""A device's name from its User-Agent header ("Safari on iPhone", "okhttp (Android app)"),
for the user's list of signed-in devices.

A small parser rather than a library: the list needs a browser and a platform out of a
dozen well-known ones, and the app clients' own agents (okhttp on Android, CFNetwork on
iOS), not ua-parser's thousands of regular expressions and their yearly updates. What it
does not know it names by the agent's first product token. The answer is made only of
fixed words and that token's letters, digits, dots, dashes and underscores, at most
``MAX_DEVICE_LENGTH`` characters: never the raw header.
"""

import re

MAX_DEVICE_LENGTH = 60
MAX_HEADER_READ = 512  # characters of the header looked at; no name needs more
UNKNOWN = "Unknown device"

# Order matters: Edge and Opera also say Chrome, Chrome also says Safari.
BROWSERS = [
    ("Edg/", "Edge"),
    ("EdgA/", "Edge"),
    ("EdgiOS/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("CriOS/", "Chrome"),
    ("FxiOS/", "Firefox"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
]
PLATFORMS = [
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Macintosh", "macOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
]
APP_CLIENTS = [
    ("okhttp/", "okhttp (Android app)"),
    ("Dart/", "Dart (Flutter app)"),
]
_PRODUCT = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,39}")


def describe(user_agent):
    """The device's name, made of fixed words and at most one sanitised product name."""
    header = user_agent[:MAX_HEADER_READ] if isinstance(user_agent, str) else ""
    return _name(header)[:MAX_DEVICE_LENGTH]


def _name(header):
    for marker, name in APP_CLIENTS:
        if header.startswith(marker):
            return name
    product = _product(header)
    if "CFNetwork/" in header and "Mozilla/" not in header:
        return f"{product} (iOS app)" if product else "iOS app"
    browser = _first(BROWSERS, header) if header.startswith("Mozilla/") else None
    platform = _first(PLATFORMS, header)
    if browser and platform:
        return f"{browser} on {platform}"
    return browser or product or platform or UNKNOWN


def _first(table, header):
    return next((name for marker, name in table if marker in header), None)


def _product(header):
    """The first product token's name ("curl" of "curl/8.5.0"), if it is a plain word."""
    match = _PRODUCT.match(header.strip())
    return match.group(0) if match else None
