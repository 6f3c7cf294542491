"""Reactions: the rules test_reactions.py leaves to the docs (docs/engagement.md#rules).

- Withdrawing needs only to see the video: a reaction made while one could watch a paid video
  can be cleared after a refund, and the counts go down.
- Anyone's view of a video body carries the counts; a caller without a reaction (or without
  an access token) has ``my_reaction`` null.
"""

from bson import ObjectId

from models import reaction as reaction_model
from models.common import object_id
from services import reactions
from tests.support.errors import assert_error
from tests.test_reactions import stored_video


def bearer(bundle):
    return {"Authorization": f"Bearer {bundle['token']}"}


def test_withdrawing_needs_only_to_see_the_video(app, client, accounts, viewer):
    creator = accounts.user_with_token("creator")
    paid = stored_video(app, creator, access="paid", price=500)
    with app.app_context():  # made while the viewer could watch (bought, since refunded)
        video = {"_id": object_id(paid), "owner_id": object_id(creator["user"]["id"])}
        reactions.apply_change(object_id(viewer["user"]["id"]), video, "like")
    again = client.put(f"/video/{paid}/reaction", json={"value": "like"}, headers=bearer(viewer))
    assert_error(again, 403, "purchase_required")  # reacting needs to watch...
    cleared = client.delete(f"/video/{paid}/reaction", headers=bearer(viewer))
    assert cleared.status_code == 200, cleared.json  # ...withdrawing only to see
    assert cleared.json == {"reaction": None, "likes": 0, "dislikes": 0}
    with app.app_context():
        vid = object_id(paid)
        assert reaction_model.counts(vid) == reaction_model.stored_counts(vid) == (0, 0)


def test_bodies_carry_the_counts_for_every_caller(app, client, accounts, viewer):
    creator = accounts.user_with_token("creator")
    video_id = stored_video(app, creator, title="Counted")
    for fan in (viewer, accounts.user_with_token()):
        client.put(f"/video/{video_id}/reaction", json={"value": "like"}, headers=bearer(fan))
    stranger = accounts.user_with_token()
    for headers in (bearer(stranger), {}):
        response = client.get(f"/video/{video_id}", headers=headers)
        if response.status_code == 401:  # the details need an access token: nothing to check
            continue
        body = response.json["video"]
        assert (body["likes"], body["dislikes"], body["my_reaction"]) == (2, 0, None)
    listed = client.get("/videos", headers=bearer(stranger)).json["videos"]
    (item,) = [item for item in listed if item["id"] == video_id]
    assert (item["likes"], item["dislikes"], item["my_reaction"]) == (2, 0, None)


def test_a_reaction_to_an_unknown_video_changes_nothing(app, client, viewer):
    unknown = str(ObjectId())
    response = client.put(
        f"/video/{unknown}/reaction", json={"value": "like"}, headers=bearer(viewer)
    )
    assert_error(response, 404, "video_not_found")
    with app.app_context():
        assert reaction_model.collection().count_documents({}) == 0
