"""Courses: a creator's ordered list of its own videos, free or priced (docs/courses.md).

Who may watch each video of a course is services/access.py's to say (``may_watch``: a buyer
of a priced course may watch its paid videos); this module says who may see and change a
course, and what a course looks like to each caller.
"""

from collections import Counter

from models import course as courses
from models import video as videos
from models.common import object_id
from models.keywords import query_words
from models.vocabulary import ADMIN, CREATOR, FREE
from services import access, money, pagination
from services.errors import Forbidden, InvalidInput, NotFound

COURSE_NOT_FOUND = "No such course."


def create(caller, fields):
    """``POST /courses`` (creators and admins; the route checks the role): a course with no
    videos yet. No price (or null) is a free course."""
    document = {
        "owner_id": caller.user["_id"],
        "owner_name": caller.user["name"],
        "title": fields["title"],
        "description": fields.get("description", ""),
        "category": fields.get("category"),
        **_priced(fields, default=None),
    }
    return shown_to(caller, courses.insert(document), with_videos=True)


def _priced(fields, default):
    """{price, currency} from a request's fields: price checked (services.money), null for
    free; a ``currency`` sent must be the platform's."""
    currency = money.check_currency(fields.get("currency"))
    price = fields.get("price", default)
    return {"price": None if price is None else money.check_price(price), "currency": currency}


def catalogue(caller, per_page, cursor=None, q=None, category=None, creator=None):
    """(courses, pagination) of the live courses, newest first; ``q`` is word search."""
    owner_id = None
    if creator is not None:
        owner_id = object_id(creator)
        if owner_id is None:
            raise InvalidInput(details={"creator": ["Not a valid id."]})
    scope = pagination.list_scope("courses", q=q, category=category, creator=creator)
    words = query_words(q) if q is not None else ()
    if q is not None and not words:
        pagination.read_cursor(scope, cursor)  # a forged cursor is 400 here too
        return [], pagination.last_page(per_page)

    def read_page(after, window):
        return courses.page(per_page, after, window, words, category, owner_id)

    found, body = pagination.list_page(scope, cursor, per_page, read_page)
    listed = courses.listed_videos({vid for course in found for vid in course["video_ids"]})
    return [_with_video_ids(caller, course, listed) for course in found], body


def details(caller, course_id):
    """``GET /courses/{id}``: the course with its ordered videos, each with ``watchable``."""
    return shown_to(caller, _seen_by(caller, course_id), with_videos=True)


def edit(caller, course_id, fields):
    course = _managed_by(caller, course_id)
    changes = {key: fields[key] for key in ("title", "description", "category") if key in fields}
    if "price" in fields or "currency" in fields:
        changes.update(_priced(fields, default=course.get("price")))
    if changes:
        courses.update(course["_id"], **changes)
    return shown_to(caller, courses.find(course["_id"]), with_videos=True)


def delete(caller, course_id):
    """Soft delete (owner or admin): the course answers 404 to all but admins, and a
    purchase of it no longer opens its videos (models.course.priced_containing)."""
    courses.soft_delete(_managed_by(caller, course_id)["_id"])


def restore(caller, course_id):
    """Undo a soft delete (admins; the route checks the role)."""
    course = _seen_by(caller, course_id)
    courses.restore(course["_id"])
    return shown_to(caller, courses.find(course["_id"]), with_videos=True)


def set_videos(caller, course_id, video_ids):
    """``PUT /courses/{id}/videos``: the whole order, every id a live video of the course's
    owner. Duplicates and unknown ids are 400; someone else's video is 403 (one the caller
    may not even see is unknown: no existence leak)."""
    course = _managed_by(caller, course_id)
    ids = [object_id(video_id) for video_id in video_ids]
    repeated = sorted(str(vid) for vid, count in Counter(ids).items() if count > 1)
    if repeated:
        message = "A video may appear only once in a course."
        raise InvalidInput(message, code="duplicate_video", details={"video_ids": repeated})
    found = courses.listed_videos(ids)
    unknown, foreign = [], []
    for vid in ids:
        video = found.get(vid)
        if video is None or video.get("deleted_at") or not access.may_see(caller, video):
            unknown.append(str(vid))
        elif video["owner_id"] != course["owner_id"]:
            foreign.append(str(vid))
    if unknown:
        message = "Some of these videos do not exist (or were deleted)."
        raise InvalidInput(message, code="unknown_video", details={"video_ids": unknown})
    if foreign:
        message = "A course may only list its owner's own videos."
        raise Forbidden(message, code="not_your_video", details={"video_ids": foreign})
    courses.update(course["_id"], video_ids=ids)
    return shown_to(caller, courses.find(course["_id"]), with_videos=True)


def _seen_by(caller, course_id):
    """The course; 404 for an unknown one, and for a deleted one but to admins."""
    course = courses.find(course_id)
    if course is None or (course.get("deleted_at") and caller.role != ADMIN):
        raise NotFound(COURSE_NOT_FOUND, code="course_not_found")
    return course


def _managed_by(caller, course_id):
    """The course if ``caller`` may change it: admins any, a creator its own (as for videos:
    an owner demoted to viewer may not until it is a creator again)."""
    course = _seen_by(caller, course_id)
    if caller.role == ADMIN:
        return course
    if course["owner_id"] != caller.user["_id"]:
        message = "Only the course's owner or an admin may change it."
        raise Forbidden(message, code="not_owner")
    if caller.role != CREATOR:
        message = "Changing courses needs the creator role; yours is viewer."
        raise Forbidden(message, code="insufficient_role")
    return course


def _manages(caller, course):
    return caller.role == ADMIN or course["owner_id"] == caller.user["_id"]


def _shown_videos(caller, course, listed):
    """The course's videos ``caller`` may see now, in order: live, ready and visible."""
    shown = []
    for vid in course["video_ids"]:
        video = listed.get(vid)
        if video is None or video.get("deleted_at") or video["status"] != videos.READY:
            continue
        if access.may_see(caller, video):
            shown.append(video)
    return shown


def _with_video_ids(caller, course, listed):
    """The course as a list item: its owner and admins get every id it lists (what a PUT
    of the order starts from); others the ids of the videos they may see."""
    if _manages(caller, course):
        return course
    return {**course, "video_ids": [v["_id"] for v in _shown_videos(caller, course, listed)]}


def shown_to(caller, course, with_videos=False):
    """The course for its body; with ``videos`` (each with ``watchable``) when asked."""
    if not with_videos:
        return course
    listed = courses.listed_videos(course["video_ids"])
    shown = _with_video_ids(caller, course, listed)
    items = [_video_item(caller, video) for video in _shown_videos(caller, course, listed)]
    return {**shown, "videos": items}


def _video_item(caller, video):
    return {
        "_id": video["_id"],
        "title": video["title"],
        "duration": video.get("duration"),
        "access": video.get("access") or FREE,
        "price": video.get("price"),
        "watchable": access.may_watch(caller, video),
    }
