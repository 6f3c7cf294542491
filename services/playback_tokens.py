"""Playback tokens: minted for a signed-in user and a video, checked on every media request
(a checked token is a PlaybackGrant).

A playback token is the only credential of the media and thumbnail URLs
(players and ``<Image>`` send no header), so it is bound to one user, one
video and the login session it was issued under: logout ends it too.

How a bad one is refused depends on whether it is the caller's credential.
On the media and thumbnail routes it is: 401 when it is invalid, expired or
its session has ended, 403 when it is for another video. On ``/stream`` the
access token has already proven who calls, and 401 means "log in again" to
every client (the mobile app signs out on it): a bad playback token there is
a 403 whose code says what is wrong with it, so the app can fetch a new one.

A *preview* token (claim ``scp: "preview"``) is what signs the thumbnail URL of a listed
video the caller may not watch (or of any catalogue item): it passes every check above and
loads the thumbnail, but never the media, nor a ``/stream`` answer (require_full).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from models import session as sessions
from services import accounts, tokens
from services.errors import Forbidden, InvalidInput

# The 403 codes of a playback token refused to a signed-in caller (``/stream``).
INVALID = "playback_token_invalid"
EXPIRED = "playback_token_expired"
REVOKED = "playback_token_revoked"
WRONG_VIDEO = "playback_token_wrong_video"
WRONG_USER = "playback_token_wrong_user"
PREVIEW_ONLY = "playback_token_preview_only"
# ... and on the media routes, where the token is the credential.
MEDIA_PREVIEW_ONLY = "token_preview_only"

SCOPE_CLAIM = "scp"
PREVIEW = "preview"  # the only scope: thumbnails only (no claim: the whole video)


@dataclass(frozen=True)
class PlaybackGrant:
    """What a verified playback token grants: its user may play one video, under the login
    session it was issued in, until it expires. Access rules read its ``user`` and ``role``
    as they read a Caller's (services.access)."""

    user: dict
    claims: dict

    @property
    def user_id(self):
        return str(self.user["_id"])

    @property
    def role(self):
        return self.user["role"]

    @property
    def session_id(self):
        return self.claims["sid"]

    @property
    def video_id(self):
        return self.claims["vid"]

    @property
    def jti(self):
        return self.claims["jti"]

    @property
    def expires_at(self):
        return datetime.fromtimestamp(self.claims["exp"], UTC)

    @property
    def key_digest(self):
        """The digest of the share key it was issued with (unlisted videos), if any."""
        return self.claims.get("skd")

    @property
    def preview_only(self):
        """Whether it loads only the thumbnail (issue_preview)."""
        return self.claims.get(SCOPE_CLAIM) == PREVIEW


def issue(caller, video_id, duration_seconds=None, key_digest=None):
    """A playback token for ``caller``'s session; ``key_digest``
    (services.access.share_key_digest) when it was asked for with an unlisted video's
    share key."""
    return tokens.mint_playback(
        caller.user_id, caller.session_id, video_id, duration_seconds, key_digest
    )


def issue_preview(caller, video_id, duration_seconds=None):
    """A preview token: bound like any playback token (user, video, session), for the
    thumbnail of a video listed to ``caller`` without playback (services.library.listed)."""
    lifetime = tokens.playback_lifetime(duration_seconds)
    extra = {"vid": str(video_id), SCOPE_CLAIM: PREVIEW}
    # tokens.mint_playback takes no scope; _mint is its own building block.
    return tokens._mint(tokens.PLAYBACK, caller.user_id, caller.session_id, lifetime, extra)


def require_full(grant, caller=None):
    """403 for a preview token where the video itself is asked for: the media routes
    (``token_preview_only``) and, for a signed-in ``caller``, ``/stream``
    (``playback_token_preview_only``)."""
    if grant.preview_only:
        raise Forbidden(
            "This playback token only loads the thumbnail; ask for a playback token.",
            code=PREVIEW_ONLY if caller is not None else MEDIA_PREVIEW_ONLY,
        )


def verify(token, video_id, caller=None):
    """The PlaybackGrant of a playback token for ``video_id``.

    400 without a token. Alone (``caller`` None: the media routes), 401 when
    it is invalid, expired or its session is revoked and 403 when it was issued
    for another video. With the signed-in ``caller`` of an access token (``/stream``),
    every refusal is a 403 (see the module's docstring).
    """
    if not token:
        raise InvalidInput("A playback token is required (?token=...).", code="missing_token")
    if caller is None:
        return _verify_alone(token, video_id)
    return _verify_for(caller, token, video_id)


def _verify_alone(token, video_id):
    return grant_of(checked_claims(token, video_id))


def checked_claims(token, video_id):
    """What verify checks without the database, alone (the media routes): the claims of a
    token that is well signed, unexpired and for ``video_id``; 400, 401 or 403 otherwise."""
    if not token:
        raise InvalidInput("A playback token is required (?token=...).", code="missing_token")
    claims = tokens.decode(token, tokens.PLAYBACK)
    if claims.get("vid") != str(video_id):
        raise Forbidden("This playback token is for another video.", code="token_wrong_video")
    return claims


def grant_of(claims):
    """The rest of verify: 401 when the token's session has ended or its user is gone."""
    return PlaybackGrant(user=accounts.session_user(claims), claims=claims)


def _verify_for(caller, token, video_id):
    try:
        claims = tokens.decode(token, tokens.PLAYBACK)
    except tokens.ExpiredToken as error:
        raise Forbidden(
            "This playback token has expired; ask for a new one.", code=EXPIRED
        ) from error
    except tokens.InvalidToken as error:
        raise Forbidden("This playback token is invalid.", code=INVALID) from error
    if claims.get("vid") != str(video_id):
        raise Forbidden("This playback token is for another video.", code=WRONG_VIDEO)
    if claims["sub"] != caller.user_id:
        raise Forbidden("This playback token belongs to another user.", code=WRONG_USER)
    # The caller's access token has just proven its own session alive; a token from
    # another session of the same user (another device) is checked here.
    if claims["sid"] != caller.session_id and sessions.find_active(claims["sid"]) is None:
        raise Forbidden(
            "This playback token was issued to a session that has ended; ask for a new one.",
            code=REVOKED,
        )
    return PlaybackGrant(user=caller.user, claims=claims)
