"""Course payloads (docs/courses.md)."""

import marshmallow as ma
from marshmallow import validate

from blueprints.schemas.common import (
    FiniteFloat,
    ItemList,
    ObjectIdString,
    PaginationArgs,
    PaginationSchema,
    StrictSchema,
    UtcDateTime,
)
from models.common import OBJECT_ID_HEX
from models.course import MAX_VIDEOS
from models.vocabulary import ACCESS_LEVELS

ID = validate.Regexp(f"^{OBJECT_ID_HEX}$", error="Not a valid id.")
PRICE = {
    "description": "Whole minor units (cents) of `currency`, from 1 to MAX_PRICE; null or "
    "absent: free. Floats and booleans are refused (400 `invalid_price`)"
}


class Price(ma.fields.Raw):
    """Any JSON value: services.money.check_price says what a price is, with its own code."""

    def __init__(self, **kwargs):
        super().__init__(
            allow_none=True, metadata={"type": "integer", "minimum": 1, **PRICE}, **kwargs
        )


def currency_field():
    return ma.fields.String(
        validate=validate.Length(min=3, max=3),
        metadata={"description": "Optional; must be the platform's CURRENCY"},
    )


class CourseCreateSchema(StrictSchema):
    title = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = ma.fields.String(load_default="", validate=validate.Length(max=5000))
    category = ma.fields.String(allow_none=True, validate=validate.Length(min=1, max=50))
    price = Price()
    currency = currency_field()


class CourseEditSchema(StrictSchema):
    title = ma.fields.String(validate=validate.Length(min=1, max=200))
    description = ma.fields.String(validate=validate.Length(max=5000))
    category = ma.fields.String(allow_none=True, validate=validate.Length(min=1, max=50))
    price = Price()
    currency = currency_field()


class CourseVideosSchema(StrictSchema):
    video_ids = ma.fields.List(
        ma.fields.String(validate=ID),
        required=True,
        validate=validate.Length(max=MAX_VIDEOS),
        metadata={"description": f"The whole order, at most {MAX_VIDEOS} ids, no repeats"},
    )


class CourseListArgs(PaginationArgs):
    q = ma.fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "Word search over title and description: case and accents "
            "ignored, every word must match, each as the start of a word"
        },
    )
    category = ma.fields.String(validate=validate.Length(min=1, max=50))
    creator = ma.fields.String(validate=ID, metadata={"description": "The creator's user id"})


class CourseCreatorSchema(ma.Schema):
    id = ObjectIdString(attribute="owner_id")
    name = ma.fields.String(attribute="owner_name")


class CourseVideoSchema(ma.Schema):
    id = ObjectIdString(attribute="_id", required=True)
    title = ma.fields.String(required=True)
    duration = FiniteFloat(allow_none=True)
    access = ma.fields.String(required=True, validate=validate.OneOf(ACCESS_LEVELS))
    price = ma.fields.Integer(allow_none=True)
    watchable = ma.fields.Boolean(
        required=True,
        metadata={"description": "Whether the caller may watch it now (services.access)"},
    )


class CourseSchema(ma.Schema):
    id = ObjectIdString(attribute="_id", required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String()
    category = ma.fields.String(allow_none=True)
    price = ma.fields.Integer(allow_none=True, metadata={"description": "null: free"})
    currency = ma.fields.String()
    creator = ma.fields.Function(lambda course: CourseCreatorSchema().dump(course))
    video_ids = ma.fields.List(
        ObjectIdString(),
        metadata={
            "description": "Its owner and admins: every id the course lists, in order; "
            "others: the ids of the videos they may see"
        },
    )
    videos = ma.fields.List(
        ma.fields.Nested(CourseVideoSchema),
        metadata={
            "description": "Single-course answers only: the live, ready videos the "
            "caller may see, in order"
        },
    )
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    deleted_at = UtcDateTime(allow_none=True, metadata={"description": "Admins only see it set"})


class CourseEnvelopeSchema(ma.Schema):
    course = ma.fields.Nested(CourseSchema, required=True)


class CourseListSchema(ma.Schema):
    courses = ItemList(ma.fields.Nested(CourseSchema), required=True)
    pagination = ma.fields.Nested(PaginationSchema, required=True)
