"""Video payloads (docs/videos.md)."""

import marshmallow as ma
from marshmallow import validate
from werkzeug.datastructures import FileStorage

from blueprints.schemas.common import (
    FiniteFloat,
    ItemList,
    ObjectIdString,
    PaginationArgs,
    PaginationSchema,
    StrictSchema,
    UtcDateTime,
)
from blueprints.schemas.prices import ACCESS_DOC, PRICE_IN, MultipartPrice, access_field
from models.common import OBJECT_ID_HEX
from models.reaction import VALUES as REACTIONS
from models.vocabulary import ACCESS_LEVELS, FREE, PAID, PUBLIC, VISIBILITIES
from services import money
from services.media.progress import STATUS_STAGES as STAGES


class FilePart(ma.fields.Field):
    """A multipart file part (werkzeug's FileStorage); a plain text field of that name is 400."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"type": "string", "format": "binary"}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ma.ValidationError("Not a file: send it as a multipart file part.")
        return value


class UploadSchema(StrictSchema):
    """The multipart upload: the file and its details, documented as one request body."""

    file = FilePart(required=True)
    title = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = ma.fields.String(load_default="", validate=validate.Length(max=5000))
    category = ma.fields.String(validate=validate.Length(min=1, max=50))
    tags = ma.fields.String(
        metadata={"description": "Comma-separated tags"}, validate=validate.Length(max=500)
    )
    visibility = ma.fields.String(load_default=PUBLIC, validate=validate.OneOf(VISIBILITIES))
    access = access_field(load_default=FREE)
    price = MultipartPrice()

    @ma.post_load
    def split_tags(self, data, **kwargs):
        raw = data.get("tags") or ""
        data["tags"] = [tag.strip().lower() for tag in raw.split(",") if tag.strip()][:20]
        return data


class CreatorSchema(ma.Schema):
    id = ObjectIdString(attribute="owner_id")
    name = ma.fields.String(attribute="owner_name")


def _access(video):
    return video.get("access") or FREE


def _price(video):
    return video.get("price") if _access(video) == PAID else None


ACCESS_OUT = {"type": "string", "enum": list(ACCESS_LEVELS), "description": ACCESS_DOC}
PRICE_OUT = {
    "type": "integer",
    "nullable": True,
    "description": "Minor units (cents); null unless `access` is `paid`",
}
CURRENCY_OUT = {"type": "string", "description": "ISO 4217 code of the platform (CURRENCY)"}
MY_REACTION_OUT = {
    "type": "string",
    "enum": list(REACTIONS),
    "nullable": True,
    "description": "The caller's reaction to the video (docs/engagement.md#reactions); null: none",
}


class ReactionFields(ma.Schema):
    """``likes``, ``dislikes`` (0 for videos stored before reactions) and ``my_reaction``."""

    likes = ma.fields.Integer(dump_default=0, metadata={"description": "Likes it has now"})
    dislikes = ma.fields.Integer(dump_default=0, metadata={"description": "Dislikes it has now"})
    my_reaction = ma.fields.String(dump_default=None, metadata=MY_REACTION_OUT)


class VideoSchema(ReactionFields):
    id = ObjectIdString(attribute="_id", required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String()
    category = ma.fields.String(allow_none=True)
    tags = ma.fields.List(ma.fields.String())
    visibility = ma.fields.String()
    status = ma.fields.String(required=True)
    failure_reason = ma.fields.String(allow_none=True)
    kind = ma.fields.String()
    mime_type = ma.fields.String(allow_none=True)
    duration = FiniteFloat(allow_none=True)
    width = ma.fields.Integer(allow_none=True)
    height = ma.fields.Integer(allow_none=True)
    frame_rate = FiniteFloat(allow_none=True)
    video_codec = ma.fields.String(allow_none=True)
    audio_codec = ma.fields.String(allow_none=True)
    size = ma.fields.Integer(allow_none=True)
    views = ma.fields.Integer()
    access = ma.fields.Function(_access, metadata=ACCESS_OUT)
    price = ma.fields.Function(_price, metadata=PRICE_OUT)
    currency = ma.fields.Function(lambda video: money.currency(), metadata=CURRENCY_OUT)
    creator = ma.fields.Function(lambda video: CreatorSchema().dump(video))
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    # Only services.library.shown_to sets owner_share_key: anything else never shows the key.
    share_key = ma.fields.String(
        attribute="owner_share_key",
        metadata={
            "description": "Only in the owner's and an admin's view: the key that lets "
            "others open the video when it is unlisted (`?key=`)"
        },
    )


class VideoEnvelopeSchema(ma.Schema):
    video = ma.fields.Nested(VideoSchema, required=True)


class VideoStatusSchema(ma.Schema):
    id = ObjectIdString(attribute="_id", required=True)
    status = ma.fields.String(required=True)
    failure_reason = ma.fields.String(allow_none=True)
    # Not an enum: later versions add stages (hls), and an app shows one it does not know
    # as plain "processing".
    stage = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "While processing, the step under way: "
            + ", ".join(STAGES)
            + " (queued until a worker takes the video; more may be added); null once ready "
            "or failed"
        },
    )
    progress = FiniteFloat(
        required=True,
        allow_none=True,
        validate=validate.Range(min=0, max=1),
        metadata={
            "description": "While processing: the fraction of the job done, 0 to 1, never "
            "going back; null once ready or failed"
        },
    )


class CatalogueArgs(PaginationArgs):
    q = ma.fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "Word search over title, description and tags: case and accents "
            "ignored, every word must match, each as the start of a word"
        },
    )
    category = ma.fields.String(validate=validate.Length(min=1, max=50))
    creator = ma.fields.String(
        validate=validate.Regexp(f"^{OBJECT_ID_HEX}$", error="Not a valid id."),
        metadata={"description": "The creator's user id"},
    )


LOCKED_DOC = (
    "Whether the caller may not watch it (docs/playback.md#locked-items): then `access`, "
    "`price` and `currency` say what would open it, and there is no playback token"
)
LISTED_PRICE_DOC = (
    "Minor units (cents): a paid video's price; for a locked `subscribers` item, the "
    "creator's monthly plan price; null otherwise"
)


class CatalogueItemSchema(VideoSchema):
    locked = ma.fields.Boolean(required=True, metadata={"description": LOCKED_DOC})
    price = ma.fields.Integer(allow_none=True, metadata={"description": LISTED_PRICE_DOC})
    thumbnail_url = ma.fields.String(
        allow_none=True,
        metadata={"description": "Signed with a preview token: loads the thumbnail only"},
    )


class VideoListSchema(ma.Schema):
    videos = ItemList(ma.fields.Nested(CatalogueItemSchema), required=True)
    pagination = ma.fields.Nested(PaginationSchema, required=True)


class VideoEditSchema(StrictSchema):
    title = ma.fields.String(validate=validate.Length(min=1, max=200))
    description = ma.fields.String(validate=validate.Length(max=5000))
    category = ma.fields.String(allow_none=True, validate=validate.Length(min=1, max=50))
    tags = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=50)), validate=validate.Length(max=20)
    )
    visibility = ma.fields.String(validate=validate.OneOf(VISIBILITIES))
    access = access_field()
    price = ma.fields.Raw(metadata=PRICE_IN)


class DeleteArgs(StrictSchema):
    purge = ma.fields.Boolean(load_default=False)


class DashboardItemSchema(ReactionFields):
    id = ObjectIdString(attribute="_id", required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String()
    thumbnail_url = ma.fields.String(allow_none=True)
    playback_token = ma.fields.String(metadata={"description": "Only on items that are not locked"})
    locked = ma.fields.Boolean(required=True, metadata={"description": LOCKED_DOC})
    access = ma.fields.String(metadata=ACCESS_OUT)
    price = ma.fields.Integer(allow_none=True, metadata={"description": LISTED_PRICE_DOC})
    currency = ma.fields.String(metadata=CURRENCY_OUT)
    duration = FiniteFloat(allow_none=True)
    created_at = UtcDateTime()
    creator = ma.fields.Function(lambda video: CreatorSchema().dump(video))
    views = ma.fields.Integer()
    kind = ma.fields.String()
    category = ma.fields.String(allow_none=True)


class DashboardSchema(ma.Schema):
    videos = ItemList(ma.fields.Nested(DashboardItemSchema), required=True)
    pagination = ma.fields.Nested(PaginationSchema, required=True)


def share_key_field():
    return ma.fields.String(
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "An unlisted video's share key (from its owner); without it, an "
            "unlisted video of someone else answers 404 like an unknown id"
        },
    )


class ShareKeyArgs(StrictSchema):
    key = share_key_field()


class PlaybackTokenArgs(ma.Schema):
    """``?token=``: the playback token. On the media routes other query
    parameters (a player's cache-busting ``_=``) are ignored, not refused."""

    token = ma.fields.String(
        load_default=None, metadata={"description": "The playback token (the only credential)"}
    )


class StreamArgs(PlaybackTokenArgs):
    """``/stream``: the playback token, and the share key of an unlisted video (a token
    issued with the key does without it)."""

    key = share_key_field()


HLS_URL = (
    "Absolute URL of the HLS master playlist (native players: AVPlayer, ExoPlayer, hls.js); "
    "null when the video has no ladder: play stream_url"
)


class PlaybackTokenSchema(ma.Schema):
    playback_token = ma.fields.String(required=True)
    expires_at = UtcDateTime(required=True)
    stream_url = ma.fields.String(required=True, metadata={"description": "Absolute media URL"})
    hls_url = ma.fields.String(required=True, allow_none=True, metadata={"description": HLS_URL})


class StreamSchema(ma.Schema):
    stream_url = ma.fields.String(required=True, metadata={"description": "Absolute media URL"})
    video_id = ObjectIdString(required=True)
    title = ma.fields.String(required=True)
    mime_type = ma.fields.String(allow_none=True)
    expires_at = UtcDateTime(required=True)
    thumbnail_url = ma.fields.String(allow_none=True)
    hls_url = ma.fields.String(required=True, allow_none=True, metadata={"description": HLS_URL})
