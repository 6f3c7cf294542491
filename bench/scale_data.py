"""The catalogue of bench/scale.py: users and ready public videos, shaped as the app writes them.

Creation times span about three years per 100,000 videos (the same upload rate at every
size), growing over time (the last day has ``GROWTH`` times the uploads of the first) with a
few bursts; ``_id`` timestamps follow them, as inserts at those times would have made them.
Words come from a small vocabulary with a Zipf distribution, so its first word is common;
the rare word is outside it and sits in the titles of ``RARE_COUNT`` videos at every size (a
needle: the answer is as long at both sizes, so the ratio is the cost of finding it). Every
video plays the same stored clip (one GridFS media file and one thumbnail).
"""

import hashlib
import math
import random
import time
from datetime import timedelta
from itertools import accumulate

import bcrypt
import gridfs
from bson import ObjectId

from models import video as videos
from services.media import renditions
from services.media.probe import probe
from services.media.thumbnails import thumbnail_jpeg

YEARS_PER_100K = 3
GROWTH = 8
BURST_SHARE, BURSTS, BURST_WIDTH = 0.12, 8, 0.002  # a burst: ~2 days wide over three years
RARE_COUNT = 3
VOCABULARY_SIZE = 1500
BATCH = 1000
CATEGORIES = ["music", "gaming", "education", "sports", "news", "comedy", "travel", "cooking"]
FIRST = ["Ada", "Ben", "Chloe", "Dan", "Eva", "Finn", "Grace", "Hugo", "Iris", "Jack", "Kim"]
LAST = ["Adams", "Brown", "Costa", "Diaz", "Evans", "Garcia", "Hall", "Ito", "Jones", "Khan"]


def zipf_weights(count, exponent=1.0):
    return list(accumulate(1 / rank**exponent for rank in range(1, count + 1)))


def vocabulary(rng):
    """``VOCABULARY_SIZE`` + 1 distinct six-letter words (CVCVCV): all one length, so none
    is found inside another by a substring search."""
    words = {}
    while len(words) <= VOCABULARY_SIZE:
        words["".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3))] = 1
    return list(words)


def spread(count, end, rng):
    """``count`` creation times up to ``end``, oldest first (to the millisecond, as BSON)."""
    span = timedelta(days=365.25 * YEARS_PER_100K * count / 100_000)
    bursts = [rng.betavariate(3, 1.5) for _ in range(BURSTS)]  # more of them lately
    growth = math.log(GROWTH)
    points = []
    for _ in range(count):
        if rng.random() < BURST_SHARE:
            point = rng.gauss(rng.choice(bursts), BURST_WIDTH)
        else:  # density grows as exp(growth * point) from 0 to 1
            point = math.log1p(rng.random() * (GROWTH - 1)) / growth
        points.append(min(max(point, 0.0), 1.0))
    times = (end - span * (1 - point) for point in sorted(points))
    return [moment.replace(microsecond=moment.microsecond // 1000 * 1000) for moment in times]


def object_id_at(moment, rng):
    return ObjectId(int(moment.timestamp()).to_bytes(4, "big") + rng.randbytes(8))


def store_media(database, clip, owner_id):
    """The clip and its thumbnail in GridFS, and the fields processing gives a video of it."""
    info = probe(clip)
    plan = renditions.plan_for(info)
    bucket = gridfs.GridFSBucket(database, chunk_size_bytes=255 * 1024)
    data = clip.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    meta = {"contentType": "application/octet-stream", "role": "source", "owner_id": owner_id}
    file_id = bucket.upload_from_stream(clip.name, data, metadata=meta)
    jpeg = thumbnail_jpeg(clip)
    thumbnail_meta = {"contentType": "image/jpeg", "role": "thumbnail"}
    thumbnail_id = bucket.upload_from_stream("thumbnail.jpg", jpeg, metadata=thumbnail_meta)
    return {
        "kind": info.kind,
        "duration": info.duration,
        "source_file_id": file_id,
        "source_size": len(data),
        "source_sha256": digest,
        "rendition": plan.action,
        "mime_type": plan.mime_type,
        "media_file_id": file_id,
        "sha256": digest,
        "size": len(data),
        "width": info.width,
        "height": info.height,
        "frame_rate": info.frame_rate,
        "video_codec": info.video_codec,
        "audio_codec": info.audio_codec,
        "thumbnail_file_id": thumbnail_id,
        "thumbnail_sha256": hashlib.sha256(jpeg).hexdigest(),
    }


def user_documents(count, end, rng):
    """As models.user.insert writes them; the earliest ``max(5, count // 200)`` are creators."""
    password_hash = bcrypt.hashpw(rng.randbytes(16).hex().encode(), bcrypt.gensalt(12)).decode()
    creators = max(5, count // 200)
    return [
        {
            "_id": object_id_at(created, rng),
            "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "email": f"user{index}@example.com",
            "password_hash": password_hash,
            "role": "creator" if index < creators else "viewer",
            "created_at": created,
            "updated_at": created,
        }
        for index, created in enumerate(spread(count, end, rng))
    ]


def video_documents(count, end, rng, creators, media, words, stats):
    """Ready public videos as upload + processing leave them, oldest first; ``stats``
    counts the titles (and documents) holding the common and the rare word."""
    common, rare, zipf = words[0], words[VOCABULARY_SIZE], zipf_weights(VOCABULARY_SIZE)
    owners = rng.sample(creators, len(creators))  # the busiest creator is not the oldest
    owner_weights, category_weights = zipf_weights(len(owners)), zipf_weights(len(CATEGORIES))
    rare_at = set(rng.sample(range(count), min(count, RARE_COUNT)))
    search_fields = getattr(videos, "search_fields", None)
    new_share_key = getattr(videos, "new_share_key", None)  # as every stored video has
    for index, created in enumerate(spread(count, end, rng)):
        owner = rng.choices(owners, cum_weights=owner_weights)[0]
        title = rng.choices(words[:VOCABULARY_SIZE], cum_weights=zipf, k=rng.randint(3, 8))
        if index in rare_at:
            title.insert(rng.randrange(len(title) + 1), rare)
        description = rng.choices(words[:VOCABULARY_SIZE], cum_weights=zipf, k=rng.randint(8, 30))
        tags = sorted(set(rng.choices(words[:VOCABULARY_SIZE], cum_weights=zipf, k=4)))
        category = rng.choices(CATEGORIES, cum_weights=category_weights)[0]
        document = {
            "_id": object_id_at(created, rng),
            "owner_id": owner["_id"],
            "owner_name": owner["name"],
            "title": " ".join(title).capitalize(),
            "description": " ".join(description).capitalize() + ".",
            "category": category if rng.random() < 0.9 else None,
            "tags": tags,
            "visibility": "public",
            "original_filename": f"{title[0]}-{index}.mp4",
            "status": videos.READY,
            "views": int(rng.paretovariate(1.1) * 10) - 10,
            "created_at": created,
            "updated_at": created + timedelta(seconds=rng.uniform(3, 120)),
            "deleted_at": None,
            "lease_until": None,
            "failure_reason": None,
            **media,
        }
        if search_fields is not None:
            document.update(search_fields(document))
        if new_share_key is not None:
            document["share_key"] = new_share_key()
        everywhere = " ".join([*title, *description, *tags])
        for name, word in (("common", common), ("rare", rare)):
            stats[f"{name} titles"] += word in title
            stats[f"{name} anywhere"] += word in everywhere
        yield document


def insert(collection, documents):
    batch = []
    for document in documents:
        batch.append(document)
        if len(batch) == BATCH:
            collection.insert_many(batch, ordered=False)
            batch = []
    if batch:
        collection.insert_many(batch, ordered=False)


def populate(database, count_users, count_videos, clip, end, seed=11):
    """Insert the catalogue; returns what it holds (counts, span, the search words) and the
    seconds its inserts took."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    people = user_documents(count_users, end, rng)
    creators = [user for user in people if user["role"] == "creator"]
    media = store_media(database, clip, creators[0]["_id"])
    stats = dict.fromkeys(("common titles", "common anywhere", "rare titles", "rare anywhere"), 0)
    start = time.perf_counter()  # generating the videos (as they are inserted) included
    insert(database.users, people)
    insert(database.videos, video_documents(count_videos, end, rng, creators, media, words, stats))
    seconds = time.perf_counter() - start
    span = timedelta(days=365.25 * YEARS_PER_100K * count_videos / 100_000)
    return {
        "insert seconds": seconds,
        "creators": len(creators),
        "common": words[0],
        "rare": words[VOCABULARY_SIZE],
        "span days": span.total_seconds() / 86400,
        "search_fields": getattr(videos, "search_fields", None) is not None,
        **stats,
    }


def shapes(database, video_id, email):
    """How the inserted documents' fields differ from the app's own (read after start-up)."""
    real_video = database.videos.find_one({"_id": ObjectId(video_id)})
    real_user = database.users.find_one({"email": email})
    found = []
    for kind, real, inserted in (
        ("videos", real_video, database.videos.find_one({"_id": {"$ne": real_video["_id"]}})),
        ("users", real_user, database.users.find_one({"email": "user0@example.com"})),
    ):
        if set(real) != set(inserted):
            ours, theirs = sorted(set(inserted) - set(real)), sorted(set(real) - set(inserted))
            found.append(f"{kind} DIFFER: only in the app's {theirs}, only in inserted {ours}")
    return found or ["inserted users and videos have the same fields as the app's own"]


def describe(database, catalogue):
    """What ``populate`` made, in lines: counts and insert rate first, the search words last."""
    documents = {name: database[name].estimated_document_count() for name in ("users", "videos")}
    seconds = catalogue["insert seconds"]
    merged = "yes" if catalogue["search_fields"] else "no (models.video has none)"
    return [
        f"inserted {documents['users']:,} users + {documents['videos']:,} videos"
        f" ({catalogue['creators']} creators) + {database.fs.files.estimated_document_count()}"
        f" GridFS files in {seconds:.1f} s ({sum(documents.values()) / seconds:,.0f} documents/s)",
        f"creation times over {catalogue['span days']:.1f} days; search_fields merged: {merged}",
        f"search words: common {catalogue['common']!r} (in {catalogue['common titles']:,}"
        f" titles, {catalogue['common anywhere']:,} videos anywhere), rare {catalogue['rare']!r}"
        f" (in {catalogue['rare titles']:,} titles, {catalogue['rare anywhere']:,} anywhere)",
    ]
