"""The access rules of services/access.py, as plain functions of a caller and a video.

No app and no database: the rules read only the caller's user and role and the video
document. The routes that apply them are covered in test_video_access.py and test_admin.py.
"""

import pytest
from bson import ObjectId

from models import video as videos
from models.vocabulary import ADMIN, CREATOR, PRIVATE, PUBLIC, UNLISTED, VIEWER
from services import access
from services.errors import Forbidden


def caller(role):
    return access.Caller(user={"_id": ObjectId(), "role": role, "name": role}, session_id="s")


def video_of(owner, visibility=PUBLIC, status=videos.READY, share_key="the-key"):
    return {
        "owner_id": owner.user["_id"],
        "visibility": visibility,
        "status": status,
        "share_key": share_key,
    }


@pytest.mark.parametrize("role", [VIEWER, CREATOR, ADMIN])
def test_anyone_sees_a_ready_public_video(role):
    assert access.may_see(caller(role), video_of(caller(CREATOR)))


def test_a_private_video_is_its_owners_and_the_admins():
    owner = caller(CREATOR)
    private = video_of(owner, visibility=PRIVATE)
    assert access.may_see(owner, private) and access.may_see(caller(ADMIN), private)
    assert not access.may_see(caller(CREATOR), private)


def test_an_unlisted_video_opens_only_with_its_key():
    unlisted = video_of(caller(CREATOR), visibility=UNLISTED)
    stranger = caller(VIEWER)
    assert not access.may_see(stranger, unlisted)
    assert not access.may_see(stranger, unlisted, access.share_key_digest("another-key"))
    assert access.may_see(stranger, unlisted, access.share_key_digest("the-key"))


def test_a_video_not_ready_is_hidden_from_all_but_owner_and_admin():
    owner = caller(CREATOR)
    processing = video_of(owner, status=videos.PROCESSING)
    assert access.may_see(owner, processing) and access.may_see(caller(ADMIN), processing)
    assert not access.may_see(caller(VIEWER), processing)


def test_a_demoted_owner_sees_its_video_but_may_not_manage_it():
    owner = caller(CREATOR)
    video = video_of(owner, visibility=PRIVATE)
    demoted = access.Caller(user={**owner.user, "role": VIEWER}, session_id="s")
    assert access.may_manage(owner, video)
    assert access.sees_all_of(demoted, video) and not access.may_manage(demoted, video)


def test_admins_manage_every_video_and_creators_only_their_own():
    video = video_of(caller(CREATOR))
    assert access.may_manage(caller(ADMIN), video)
    assert not access.may_manage(caller(CREATOR), video)


ROLE_RULES = [
    (access.require_uploader, (CREATOR, ADMIN), "insufficient_role"),
    (access.require_admin, (ADMIN,), "insufficient_role"),
    (access.require_purger, (ADMIN,), "admin_only"),
]


@pytest.mark.parametrize(
    ("rule", "role"),
    [(rule, role) for rule, allowed, _ in ROLE_RULES for role in allowed],
)
def test_a_role_rule_lets_its_roles_through(rule, role):
    rule(caller(role))


@pytest.mark.parametrize(
    ("rule", "role", "code"),
    [
        (rule, role, code)
        for rule, allowed, code in ROLE_RULES
        for role in (VIEWER, CREATOR, ADMIN)
        if role not in allowed
    ],
)
def test_a_role_rule_refuses_other_roles_with_403_and_its_code(rule, role, code):
    with pytest.raises(Forbidden) as refused:
        rule(caller(role))
    assert refused.value.status == 403 and refused.value.code == code


def test_signup_grants_viewer_or_creator_never_admin():
    access.require_signup_role(VIEWER)
    access.require_signup_role(CREATOR)
    with pytest.raises(Forbidden) as refused:
        access.require_signup_role(ADMIN)
    assert refused.value.code == "role_not_allowed"
