"""A catalogue written straight into the database, and walking a list page by page."""

import random
from datetime import timedelta

from bson import ObjectId

from models import video as videos
from models.common import utcnow
from models.db import get_db


def catalogue_documents(owner_id, count, seed=7, **fields):
    """Ready public videos: spread over three years, a burst, and 30 in one millisecond."""
    rng = random.Random(seed)
    now = utcnow()
    moments = [now - timedelta(days=rng.uniform(0, 3 * 365)) for _ in range(count - 40)]
    moments += [now - timedelta(minutes=rng.uniform(0, 5)) for _ in range(10)]
    moments += [now - timedelta(days=40)] * 30  # ties: the _id decides
    return [
        video_document(
            owner_id,
            created_at,
            title=f"Clip {index}",
            category="music" if index % 3 else "news",
            **fields,
        )
        for index, created_at in enumerate(moments)
    ]


def video_document(owner_id, created_at, **fields):
    """A ready public video's document as the app stores it (search fields included)."""
    document = {
        "_id": ObjectId(),
        "owner_id": owner_id,
        "owner_name": "Owner",
        "title": "Clip",
        "description": "",
        "tags": [],
        "category": "music",
        "kind": "video",
        "duration": 5.0,
        "views": 0,
        "status": videos.READY,
        "visibility": "public",
        "deleted_at": None,
        "created_at": created_at,
        "updated_at": created_at,
        **fields,
    }
    document.update(videos.search_fields(document))
    return document


def insert_videos(app, documents):
    with app.app_context():
        get_db().videos.insert_many(documents)
    return sorted(documents, key=lambda d: (d["created_at"], d["_id"]), reverse=True)


def walk(client, path, headers, per_page, key="videos"):
    """Every page of a list, following next_cursor: (items in order, pages)."""
    items, pages, cursor = [], [], None
    while True:
        separator = "&" if "?" in path else "?"
        url = f"{path}{separator}per_page={per_page}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.json
        body = response.json
        pages.append(body)
        items.extend(body[key])
        pagination = body["pagination"]
        assert set(pagination) == {"per_page", "next_cursor", "has_more"}
        assert pagination["per_page"] == per_page
        assert pagination["has_more"] == (pagination["next_cursor"] is not None)
        if not pagination["has_more"]:
            return items, pages
        assert len(body[key]) == per_page
        cursor = pagination["next_cursor"]
