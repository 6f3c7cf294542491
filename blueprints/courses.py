"""/courses: a creator's ordered lists of its videos, free or priced (docs/courses.md)."""

from blueprints.schemas.common import MessageSchema
from blueprints.schemas.courses import (
    CourseCreateSchema,
    CourseEditSchema,
    CourseEnvelopeSchema,
    CourseListArgs,
    CourseListSchema,
    CourseVideosSchema,
)
from blueprints.schemas.prices import money_rules
from services import access, courses
from web.api import ApiBlueprint
from web.guards import auth_required, current_caller

blp = ApiBlueprint("courses", __name__, url_prefix="/courses", description="Courses")


@blp.record_once
def document_money_rules(state):
    """The request schemas with this app's MAX_PRICE and CURRENCY, registered before the
    routes' documentation refers to them."""
    api = state.app.extensions["flask-smorest"]["blp_name_to_api"][blp.name]
    rules = money_rules(state.app.config["MAX_PRICE"], state.app.config["CURRENCY"])
    api.spec.components.schema("CourseCreate", rules, schema=CourseCreateSchema)
    api.spec.components.schema("CourseEdit", rules, schema=CourseEditSchema)


NOT_FOUND = "Unknown course, or deleted (deleted courses answer 404 to all but admins)"
MANAGE_403 = (
    "`not_owner` (someone else's course), or `insufficient_role` for an owner who is no "
    "longer a creator"
)
PRICE_400 = "Invalid fields; `invalid_price` or `unsupported_currency`"


@blp.route("", methods=["POST"])
@auth_required(access.require_uploader)
@blp.arguments(CourseCreateSchema)
@blp.response(201, CourseEnvelopeSchema)
@blp.alt_response(400, description=PRICE_400)
def create(fields):
    """Create a course (creators and admins), with no videos yet; no price: free."""
    return {"course": courses.create(current_caller(), fields)}


@blp.route("", methods=["GET"])
@auth_required()
@blp.arguments(CourseListArgs, location="query")
@blp.response(200, CourseListSchema)
@blp.alt_response(400, description="Invalid filters, or `invalid_cursor`")
def catalogue(args):
    """Live courses, newest first; ``q`` (word search), ``category``, ``creator``."""
    found, pagination = courses.catalogue(current_caller(), **args)
    return {"courses": found, "pagination": pagination}


@blp.route("/<objectid:course_id>", methods=["GET"])
@auth_required()
@blp.response(200, CourseEnvelopeSchema)
@blp.alt_response(404, description=NOT_FOUND)
def details(course_id):
    """The course and its videos in order, each with whether the caller may watch it."""
    return {"course": courses.details(current_caller(), course_id)}


@blp.route("/<objectid:course_id>", methods=["PATCH"])
@auth_required()
@blp.arguments(CourseEditSchema)
@blp.response(200, CourseEnvelopeSchema)
@blp.alt_response(400, description=PRICE_400)
@blp.alt_response(403, description=MANAGE_403)
@blp.alt_response(404, description=NOT_FOUND)
def edit(fields, course_id):
    """Change title, description, category or price (null: free); owner or admin."""
    return {"course": courses.edit(current_caller(), course_id, fields)}


@blp.route("/<objectid:course_id>", methods=["DELETE"])
@auth_required()
@blp.response(200, MessageSchema)
@blp.alt_response(403, description=MANAGE_403)
@blp.alt_response(404, description=NOT_FOUND)
def delete(course_id):
    """Soft delete (owner or admin): 404 to all but admins, and buying it opens nothing."""
    courses.delete(current_caller(), course_id)
    return {"message": "Course deleted"}


@blp.route("/<objectid:course_id>/restore", methods=["POST"])
@auth_required(access.require_admin)
@blp.response(200, CourseEnvelopeSchema)
@blp.alt_response(404, description="Unknown course")
def restore(course_id):
    """Undo a soft delete (admin)."""
    return {"course": courses.restore(current_caller(), course_id)}


@blp.route("/<objectid:course_id>/videos", methods=["PUT"])
@auth_required()
@blp.arguments(CourseVideosSchema)
@blp.response(200, CourseEnvelopeSchema)
@blp.alt_response(
    400,
    description="Invalid ids, over 200, `duplicate_video`, or `unknown_video` (unknown, "
    "deleted or hidden from the caller; `details.video_ids` names them)",
)
@blp.alt_response(
    403,
    description=MANAGE_403 + "; `not_your_video`: a video of someone other than the "
    "course's owner (`details.video_ids` names them)",
)
@blp.alt_response(404, description=NOT_FOUND)
def set_videos(fields, course_id):
    """Set the course's videos, in order (the whole list; owner, or admin for the owner)."""
    return {"course": courses.set_videos(current_caller(), course_id, fields["video_ids"])}
