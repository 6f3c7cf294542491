"""Playback tokens as a client might hold them: an expired copy of a real one."""

from datetime import UTC, datetime, timedelta

import jwt

from services import tokens


def expired_copy(app, token):
    """``token`` re-signed with the same claims, issued three hours ago and expired two ago."""
    with app.app_context():
        claims = tokens.decode(token, tokens.PLAYBACK)
    past = datetime.now(UTC) - timedelta(hours=3)
    claims.update(iat=past, exp=past + timedelta(hours=1))
    return jwt.encode(claims, app.config["PLAYBACK_SECRET_KEY"], algorithm="HS256")
