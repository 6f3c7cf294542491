"""The security headers of every response, set in one place (an after_request).

Every answer (errors, 304, 206, media, thumbnails, OpenAPI, /docs) says
``nosniff``: media are served as uploaded, and a browser must never guess
that a "video" is HTML. Playback tokens travel in URLs, so no page may leak
them in a Referer. Nothing of ours is meant to be framed.

Media and thumbnails are loaded cross-origin by web players and <img>, which
Cross-Origin-Resource-Policy would otherwise block; they carry no
Content-Security-Policy either: a WebView or browser that opens a media URL
by itself builds a document around it, which ``default-src 'none'`` would
leave empty. /docs (Swagger UI) gets a policy that allows its own assets and
its one inline script, by hash, so it works and nothing else runs.
"""

import base64
import hashlib
import re

from flask import current_app, request

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# JSON and everything else that no other site needs to load.
API_POLICY = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Resource-Policy": "same-origin",
}
PLAYER_BYTES_POLICY = {"Cross-Origin-Resource-Policy": "cross-origin"}
# Swagger UI styles its elements inline and draws icons from data: URIs.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' {script_hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def init_app(app):
    app.after_request(add_security_headers)


def for_players(view):
    """Mark a view whose bytes players and <img> load from other origins."""
    view.for_players = True
    return view


def add_security_headers(response):
    headers = response.headers
    # One pass over the headers rather than one per ``setdefault``: werkzeug's Headers is a
    # list (bench/ranges.py: this hook was ~2% of a short media range's CPU). Same result:
    # a header already set is kept, a missing one appended.
    present = {name.lower() for name, _ in headers.items()}
    for name, value in ALWAYS.items():
        if name.lower() not in present:
            headers.add(name, value)
    if _serves_players():
        headers.update(PLAYER_BYTES_POLICY)
    elif response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = _docs_policy(response)
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    else:
        response.headers.update(API_POLICY)
    return response


def _serves_players():
    view = current_app.view_functions.get(request.endpoint)
    return getattr(view, "for_players", False)


def _docs_policy(response):
    """Allow exactly the inline scripts this page carries (Swagger UI's start-up code)."""
    if response.direct_passthrough or response.is_streamed:
        return DOCS_POLICY.format(script_hashes="")
    page = response.get_data(as_text=True)
    hashes = " ".join(_script_hash(script) for script in INLINE_SCRIPT.findall(page))
    return DOCS_POLICY.format(script_hashes=hashes)


def _script_hash(script):
    digest = hashlib.sha256(script.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"
