"""The video library as callers see it: details, the catalogue, edits, deletion, restore,
purge and share keys.

Whether a caller may see or change a video is services/access.py's to say.
"""

from models import hls, media_file
from models import video as videos
from models.common import object_id
from models.keywords import query_words
from models.vocabulary import FREE, PAID, SUBSCRIBERS
from services import access, money, pagination, playback_tokens, reactions, urls
from services.errors import Conflict, InvalidInput, NotFound


def details(caller, video_id, share_key=None):
    """``GET /video/{id}``: the video as this caller may see it (``?key=`` for unlisted)."""
    digest = access.share_key_digest(share_key) if share_key else None
    return shown_to(caller, access.video_seen_by(caller, video_id, digest))


def shown_to(caller, video):
    """The video with the caller's reaction (``my_reaction``), and with its share key only
    for those who may hand it out: owner and admin.

    The key goes out under its own name (``owner_share_key``), which the schema dumps as
    ``share_key``: a video that never passed here cannot show it by accident.
    """
    shown = {**video, "my_reaction": reactions.mine(caller, video)}
    if access.sees_all_of(caller, video):
        shown["owner_share_key"] = video.get("share_key")
    return shown


def new_share_key(caller, video_id):
    """``POST /video/{id}/share-key``: the old key, and every playback token issued with it,
    stop opening the video at once."""
    video = access.video_managed_by(caller, video_id)
    videos.replace_share_key(video["_id"])
    return shown_to(caller, videos.find(video["_id"]))


def catalogue(caller, per_page, cursor=None, q=None, category=None, creator=None):
    """(videos, pagination) of the public catalogue; ``q`` is word search (models.keywords).
    Each item is ``listed`` for ``caller`` (locked or not, a preview thumbnail URL)."""
    creator_id = None
    if creator is not None:
        creator_id = object_id(creator)
        if creator_id is None:
            raise InvalidInput(details={"creator": ["Not a valid id."]})
    scope = pagination.list_scope("videos", q=q, category=category, creator=creator)
    words = query_words(q) if q is not None else ()
    if q is not None and not words:
        pagination.read_cursor(scope, cursor)  # a forged cursor is 400 here too
        return [], pagination.last_page(per_page)  # nothing searchable in q: no video matches

    def read_page(after, window):
        return videos.catalogue_page(per_page, after, window, words, category, creator_id)

    found, body = pagination.list_page(scope, cursor, per_page, read_page)
    check, mine = access.watch_checker(caller), reactions.mine_among(caller, found)
    return pagination.built_items(found, lambda video: listed(caller, video, check, mine)), body


def listed(caller, video, check, mine, playable=False):
    """A listed video as ``caller`` sees it: ``locked`` and, when locked, what would open it
    (``access``, ``price``: the creator's plan price for ``subscribers``, ``currency``).
    ``mine`` is the caller's reactions to the page's videos (services.reactions.mine_among).
    ``playable`` (the dashboard): an unlocked item carries a playback token, and its
    thumbnail is signed with it. Otherwise (locked items, the catalogue) the thumbnail URL
    is signed with a preview token, which loads the thumbnail and never the video.
    """
    refusal = check(video)
    level = access.access_level(video)
    shown = {
        **video,
        "locked": refusal is not None,
        "access": level,
        "price": video.get("price") if level == PAID else None,
        "currency": money.currency(),
        "my_reaction": mine.get(video["_id"]),
    }
    if refusal is not None:
        shown["price"] = refusal.details.get("price")
    if refusal is None and playable:
        token = playback_tokens.issue(caller, video["_id"], video.get("duration")).token
        shown["playback_token"] = token
    else:
        token = playback_tokens.issue_preview(caller, video["_id"], video.get("duration")).token
    shown["thumbnail_url"] = urls.thumbnail_url(video, token)
    return shown


def access_fields(fields, video=None):
    """The ``access`` and ``price`` to store for an upload (``video`` None) or an edit of
    ``video``, from the ``fields`` sent, or the refusal naming ``price``.

    A paid video needs a price (services.money.check_price: 400 ``invalid_price``); a free
    one has none, and a subscribers' one takes its creator's plan price, so a price sent
    with either is 400 ``price_not_allowed``. Leaving paid clears the price. An edit may
    send ``price`` alone (a paid video's new price) or ``access: paid`` alone (a video that
    has a price): when the video's current level does not allow it, that is a conflict with
    its state, 409 ``price_not_allowed`` / ``price_required``.
    """
    current = access.access_level(video) if video else FREE
    level = fields.get("access", current)
    price = money.check_price(fields["price"]) if "price" in fields else None
    from_state = video is not None and "access" not in fields
    if level != PAID:
        if price is not None:
            _refuse_price(level, from_state)
        return {"access": level, "price": None}
    price = price or (video.get("price") if current == PAID else None)
    if price is None:
        message = "A paid video needs a price (in minor units, e.g. cents)."
        error = Conflict if video is not None else InvalidInput
        raise error(message, code="price_required", details={"price": [message]})
    return {"access": level, "price": price}


def _refuse_price(level, from_state):
    if level == SUBSCRIBERS:
        message = "A subscribers' video takes its price from the creator's subscription plan."
    else:
        message = "A free video has no price."
    error = Conflict if from_state else InvalidInput
    raise error(message, code="price_not_allowed", details={"price": [message]})


def edit(caller, video_id, fields):
    video = access.video_managed_by(caller, video_id)
    if "access" in fields or "price" in fields:
        fields = {**fields, **access_fields(fields, video)}
    if fields:
        videos.update(video["_id"], **fields)
    return shown_to(caller, videos.find(video["_id"]))


def delete(caller, video_id, purge=False):
    if purge:
        return _purge(caller, video_id)
    video = access.video_managed_by(caller, video_id)
    videos.soft_delete(video["_id"])


def _purge(caller, video_id):
    access.require_purger(caller)
    video = _in_any_state(video_id)
    media_file.delete(
        video.get("media_file_id"), video.get("thumbnail_file_id"), video.get("source_file_id")
    )
    hls.delete_video_ladders(video["_id"])  # every segment and key, published or not
    videos.remove(video["_id"])
    reactions.forget_video(video["_id"])


def restore(caller, video_id):
    """Undo a soft delete (admins)."""
    access.require_admin(caller)
    video = _in_any_state(video_id)
    videos.restore(video["_id"])
    return shown_to(caller, videos.find(video["_id"]))


def _in_any_state(video_id):
    """The video, deleted or not, whatever its visibility: for admins' purge and restore."""
    video = videos.find(video_id)
    if video is None:
        raise NotFound(access.VIDEO_NOT_FOUND, code="video_not_found")
    return video
