"""Playback tokens are bound to a user, a video and a live session."""

import pytest
from bson import ObjectId

from services import accounts as account_service
from services import playback_tokens
from services.errors import Forbidden, InvalidInput, Unauthorized


@pytest.fixture
def signed_in(accounts):
    bundle = accounts.user_with_token()
    with accounts.app.app_context():
        return bundle, account_service.authenticate(bundle["token"])


def test_valid_token_gives_the_viewer(accounts, signed_in):
    _, caller = signed_in
    video_id = ObjectId()
    with accounts.app.app_context():
        token = playback_tokens.issue(caller, video_id).token
        found = playback_tokens.verify(token, str(video_id))
    assert found.user_id == caller.user_id and found.session_id == caller.session_id


def test_missing_token_is_400(accounts, signed_in):
    with accounts.app.app_context(), pytest.raises(InvalidInput) as error:
        playback_tokens.verify("", str(ObjectId()))
    assert error.value.status == 400


def test_another_video_is_403(accounts, signed_in):
    _, caller = signed_in
    with accounts.app.app_context():
        token = playback_tokens.issue(caller, ObjectId()).token
        with pytest.raises(Forbidden):
            playback_tokens.verify(token, str(ObjectId()))


def test_another_user_is_403(accounts, signed_in):
    _, caller = signed_in
    other = accounts.user_with_token()
    video_id = ObjectId()
    with accounts.app.app_context():
        token = playback_tokens.issue(caller, video_id).token
        someone_else = account_service.authenticate(other["token"])
        with pytest.raises(Forbidden):
            playback_tokens.verify(token, str(video_id), caller=someone_else)


def test_logout_ends_the_playback_token(accounts, signed_in):
    bundle, caller = signed_in
    video_id = ObjectId()
    with accounts.app.app_context():
        token = playback_tokens.issue(caller, video_id).token
    accounts.client.post("/auth/logout", headers=accounts.bearer(bundle))
    with accounts.app.app_context(), pytest.raises(Unauthorized):
        playback_tokens.verify(token, str(video_id))


def test_access_token_is_not_a_playback_token(accounts, signed_in):
    bundle, _ = signed_in
    with accounts.app.app_context(), pytest.raises(Unauthorized):
        playback_tokens.verify(bundle["token"], str(ObjectId()))
