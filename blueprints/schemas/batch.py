"""Batch upload payloads (docs/courses.md#batch-upload)."""

import json

import marshmallow as ma
from marshmallow import validate

from blueprints.schemas.videos import FilePart, VideoSchema
from models.vocabulary import PUBLIC, VISIBILITIES

TITLE = validate.Length(min=1, max=200)


class JsonTitles(ma.fields.Field):
    """A form field holding a JSON array of titles (``["Intro", "Part 2"]``)."""

    def __init__(self, **kwargs):
        metadata = {
            "type": "string",
            "description": 'A JSON array of titles, one per file in the same order: ["Intro", '
            '"Part 2"]; each 1 to 200 characters',
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ma.ValidationError("Titles must be a JSON array of strings.")
        try:
            titles = json.loads(value)
        except ValueError as error:
            raise ma.ValidationError("Titles must be a JSON array of strings.") from error
        if not isinstance(titles, list) or not all(isinstance(t, str) for t in titles):
            raise ma.ValidationError("Titles must be a JSON array of strings.")
        for title in titles:
            if not 1 <= len(title) <= 200:
                raise ma.ValidationError("Each title must be 1 to 200 characters.")
        return titles


class BatchUploadSchema(ma.Schema):
    """Several ``file`` parts, their ``titles``, and the fields all the videos share."""

    class Meta:
        unknown = ma.RAISE

    file = ma.fields.List(
        FilePart(),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "One part per file (at most MAX_BATCH_FILES)"},
    )
    titles = JsonTitles(required=True)
    description = ma.fields.String(load_default="", validate=validate.Length(max=5000))
    category = ma.fields.String(validate=validate.Length(min=1, max=50))
    tags = ma.fields.String(
        metadata={"description": "Comma-separated tags"}, validate=validate.Length(max=500)
    )
    visibility = ma.fields.String(load_default=PUBLIC, validate=validate.OneOf(VISIBILITIES))

    @ma.post_load
    def split_tags(self, data, **kwargs):
        raw = data.get("tags") or ""
        data["tags"] = [tag.strip().lower() for tag in raw.split(",") if tag.strip()][:20]
        return data


class BatchResultSchema(ma.Schema):
    status = ma.fields.Integer(
        required=True, metadata={"description": "202 accepted; 413 or 422 refused"}
    )
    video = ma.fields.Nested(VideoSchema, metadata={"description": "When accepted"})
    error = ma.fields.String(metadata={"description": "When refused: why"})
    code = ma.fields.String(metadata={"description": "When refused: upload_too_large, ..."})
    details = ma.fields.Dict()


class BatchResultsSchema(ma.Schema):
    results = ma.fields.List(
        ma.fields.Nested(BatchResultSchema),
        required=True,
        metadata={"description": "One per file, in the order the files were sent"},
    )
