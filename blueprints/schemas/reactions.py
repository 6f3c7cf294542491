"""Reaction payloads (docs/engagement.md#reactions)."""

import marshmallow as ma
from marshmallow import validate

from blueprints.schemas.common import StrictSchema
from models.reaction import VALUES

REACTION_OUT = {
    "type": "string",
    "enum": list(VALUES),
    "nullable": True,
    "description": "The caller's reaction to the video; null: none",
}


class ReactionSchema(StrictSchema):
    value = ma.fields.String(required=True, validate=validate.OneOf(VALUES))


class ReactionResultSchema(ma.Schema):
    reaction = ma.fields.String(required=True, allow_none=True, metadata=REACTION_OUT)
    likes = ma.fields.Integer(required=True, metadata={"description": "Likes of the video now"})
    dislikes = ma.fields.Integer(
        required=True, metadata={"description": "Dislikes of the video now"}
    )
