"""The token service: what a forged, expired or misused token gets."""

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from services import tokens
from services.errors import Unauthorized


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_for(kind, **overrides):
    now = datetime.now(UTC)
    claims = {
        "iss": tokens.ISSUER,
        "aud": tokens.AUDIENCE[kind],
        "typ": kind,
        "sub": "u1",
        "sid": "s1",
        "jti": "j1",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    claims.update(overrides)
    return claims


@pytest.mark.parametrize("backend", ["mongomock"], indirect=True)
class TestDecode:
    def test_round_trip(self, ctx):
        minted = tokens.mint_access("u1", "s1")
        claims = tokens.decode(minted.token, tokens.ACCESS)
        assert claims["sub"] == "u1" and claims["sid"] == "s1" and claims["typ"] == "access"
        assert claims["jti"] == minted.jti

    def test_a_playback_token_verified_once_still_expires(self, ctx):
        """Verified playback tokens are remembered (a player sends one with every range):
        its expiry is still checked on every use."""
        key = ctx.config["PLAYBACK_SECRET_KEY"]
        now = datetime.now(UTC).replace(microsecond=0)
        claims = claims_for("playback", jti="short", iat=now, exp=now + timedelta(seconds=1))
        token = jwt.encode(claims, key, algorithm=tokens.ALGORITHM)
        assert tokens.decode(token, tokens.PLAYBACK)["jti"] == "short"
        time.sleep(max(0.0, (now + timedelta(seconds=1.05) - datetime.now(UTC)).total_seconds()))
        with pytest.raises(tokens.ExpiredToken):
            tokens.decode(token, tokens.PLAYBACK)

    def test_a_remembered_playback_token_is_not_another_keys(self, ctx):
        token = tokens.mint_playback("u1", "s1", "v1").token
        assert tokens.decode(token, tokens.PLAYBACK)["vid"] == "v1"
        ctx.config["PLAYBACK_SECRET_KEY"] = "another-key-" + "x" * 40
        with pytest.raises(tokens.InvalidToken):
            tokens.decode(token, tokens.PLAYBACK)

    def test_alg_none_is_refused(self, ctx):
        forged = (
            f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims_for('access', iat=1, exp=2**31))}."
        )
        with pytest.raises(Unauthorized) as error:
            tokens.decode(forged, tokens.ACCESS)
        assert error.value.code == "invalid_token"

    def test_another_algorithm_is_refused(self, ctx):
        key = ctx.config["JWT_SECRET_KEY"]
        token = jwt.encode(claims_for("access"), key, algorithm="HS512")
        with pytest.raises(Unauthorized):
            tokens.decode(token, tokens.ACCESS)

    def test_wrong_key_is_refused(self, ctx):
        token = jwt.encode(
            claims_for("access"), "another-key-of-32-bytes-or-more-xx", algorithm="HS256"
        )
        with pytest.raises(Unauthorized):
            tokens.decode(token, tokens.ACCESS)

    def test_expired_is_refused_as_expired(self, ctx):
        past = datetime.now(UTC) - timedelta(hours=2)
        token = jwt.encode(
            claims_for("access", iat=past, exp=past + timedelta(minutes=1)),
            ctx.config["JWT_SECRET_KEY"],
            algorithm="HS256",
        )
        with pytest.raises(Unauthorized) as error:
            tokens.decode(token, tokens.ACCESS)
        assert error.value.code == "token_expired"

    def test_missing_session_claim_is_refused(self, ctx):
        claims = claims_for("access")
        del claims["sid"]
        token = jwt.encode(claims, ctx.config["JWT_SECRET_KEY"], algorithm="HS256")
        with pytest.raises(Unauthorized):
            tokens.decode(token, tokens.ACCESS)

    def test_tampered_payload_is_refused(self, ctx):
        header, _, signature = tokens.mint_access("u1", "s1").token.split(".")
        tampered = (
            f"{header}.{b64(claims_for('access', sub='admin', iat=1, exp=2**31))}.{signature}"
        )
        with pytest.raises(Unauthorized):
            tokens.decode(tampered, tokens.ACCESS)

    def test_playback_token_is_not_an_access_token(self, ctx):
        playback = tokens.mint_playback("u1", "s1", "v1").token
        with pytest.raises(Unauthorized):
            tokens.decode(playback, tokens.ACCESS)

    def test_access_token_is_not_a_playback_token(self, ctx):
        access = tokens.mint_access("u1", "s1").token
        with pytest.raises(Unauthorized):
            tokens.decode(access, tokens.PLAYBACK)

    def test_refresh_token_is_neither(self, ctx):
        refresh = tokens.mint_refresh("u1", "s1").token
        for kind in (tokens.ACCESS, tokens.PLAYBACK):
            with pytest.raises(Unauthorized):
                tokens.decode(refresh, kind)

    def test_auth_key_cannot_sign_playback_tokens(self, ctx):
        """Even with the right audience and type, the auth key is the wrong key."""
        token = jwt.encode(
            claims_for("playback", vid="v1"), ctx.config["JWT_SECRET_KEY"], algorithm="HS256"
        )
        with pytest.raises(Unauthorized):
            tokens.decode(token, tokens.PLAYBACK)

    def test_playback_token_carries_user_video_and_session(self, ctx):
        claims = tokens.decode(tokens.mint_playback("u1", "s1", "v9").token, tokens.PLAYBACK)
        assert (claims["sub"], claims["sid"], claims["vid"]) == ("u1", "s1", "v9")

    def test_playback_lifetime_is_one_hour_or_duration_plus_ten_minutes(self, ctx):
        assert tokens.playback_lifetime(None) == timedelta(hours=1)
        assert tokens.playback_lifetime(600) == timedelta(hours=1)
        assert tokens.playback_lifetime(2 * 3600) == timedelta(hours=2, minutes=10)

    @pytest.mark.parametrize(
        "claimed",
        [4.3e11, 126 * 365.25 * 86400, float("inf"), 10**400, 20 * 3600],
        ids=["13,600 years", "126 years", "infinity", "beyond any float", "20 hours"],
    )
    def test_playback_lifetime_never_passes_the_ceiling(self, ctx, claimed):
        assert tokens.playback_lifetime(claimed) == timedelta(hours=12)
        assert tokens.mint_playback("u", "s", "v", claimed).lifetime == timedelta(hours=12)

    @pytest.mark.parametrize("claimed", [float("nan"), -1, -1e300, "forever", True, [], {"$gt": 0}])
    def test_a_duration_that_is_no_duration_gets_the_default_hour(self, ctx, claimed):
        assert tokens.playback_lifetime(claimed) == timedelta(hours=1)

    def test_the_ceiling_comes_from_the_config_and_wins_over_the_default(self, ctx):
        ctx.config.update(PLAYBACK_TOKEN_MAX_HOURS=2)
        assert tokens.playback_lifetime(3 * 3600) == timedelta(hours=2)
        assert tokens.playback_lifetime(1800) == timedelta(hours=1)
        ctx.config.update(PLAYBACK_TOKEN_MINUTES=180)
        assert tokens.playback_lifetime(None) == timedelta(hours=2)

    def test_lifetimes_come_from_the_config(self, ctx):
        ctx.config.update(ACCESS_TOKEN_MINUTES=5, REFRESH_TOKEN_DAYS=2, PLAYBACK_TOKEN_MINUTES=90)
        assert tokens.mint_access("u", "s").lifetime == timedelta(minutes=5)
        assert tokens.mint_refresh("u", "s").lifetime == timedelta(days=2)
        assert tokens.mint_playback("u", "s", "v").lifetime == timedelta(minutes=90)


def test_expired_access_token_over_http(make_app, accounts):
    bundle = accounts.user_with_token()
    app = accounts.app
    with app.app_context():
        claims = tokens.decode(bundle["token"], tokens.ACCESS)
    past = datetime.now(UTC) - timedelta(hours=2)
    claims.update(iat=past, exp=past + timedelta(minutes=60))
    expired = jwt.encode(claims, app.config["JWT_SECRET_KEY"], algorithm="HS256")
    response = accounts.client.get("/auth/me", headers=accounts.bearer(expired))
    assert response.status_code == 401
    assert response.json["code"] == "token_expired"


def test_playback_token_over_http_is_not_an_access_token(accounts):
    bundle = accounts.user_with_token()
    with accounts.app.app_context():
        claims = tokens.decode(bundle["token"], tokens.ACCESS)
        playback = tokens.mint_playback(claims["sub"], claims["sid"], "v1").token
    response = accounts.client.get("/auth/me", headers=accounts.bearer(playback))
    assert response.status_code == 401
