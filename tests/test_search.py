"""Word search on the catalogue (``GET /videos?q=``) and the keywords behind it."""

import pytest
from bson import ObjectId

from models import keywords
from models import video as videos
from models.db import get_db
from tests.support.catalogue import catalogue_documents, insert_videos, walk


def test_words_are_case_and_accent_folded():
    assert keywords.words("Café-CRÈME, Straße; İstanbul_2024!") == [
        "cafe",
        "creme",
        "strasse",
        "istanbul",
        "2024",
    ]


def test_keywords_hold_each_word_and_its_prefixes_from_three_letters():
    found = keywords.keywords("Piano", ["Jazz"], "a cat")
    assert set(found) == {"pia", "pian", "piano", "jaz", "jazz", "a", "cat"}


def test_a_short_query_word_is_a_prefix_too():
    video_keywords = keywords.keywords("Piano", [], "a tv")
    assert all(
        keywords.matches(word, video_keywords) for word in ("p", "pi", "pia", "a", "t", "tv")
    )
    assert not any(keywords.matches(word, video_keywords) for word in ("i", "ia", "tvs", "pianos"))
    assert [keywords.is_indexed(word) for word in ("pi", "pia")] == [False, True]


def test_a_video_is_found_by_at_most_its_first_words_and_their_first_characters():
    long_word = "x" * 50
    found = keywords.keywords(long_word, [], " ".join(f"w{n}" for n in range(200)))
    assert "x" * keywords.MAX_WORD_LENGTH in found and "x" * 21 not in found
    assert f"w{keywords.MAX_WORDS - 2}" in found and f"w{keywords.MAX_WORDS - 1}" not in found


def test_query_words_longest_first_and_deduplicated():
    assert keywords.query_words("cat CAT caterpillar") == ["caterpillar", "cat"]


@pytest.fixture
def creator(accounts):
    return accounts.user_with_token("creator")


@pytest.fixture
def owner(creator):
    return ObjectId(creator["user"]["id"])


@pytest.fixture
def searchable(app, owner):
    texts = [
        ("Cats on a Piano", "Jazz standards", ["music", "Cats"]),
        ("Piano lesson", "Beginners learn the café waltz", ["lesson"]),
        ("Dogs at the beach", "Summer in Crète", ["pets"]),
        ("Crème brûlée", "A French dessert", ["cooking", "française"]),
    ]
    documents = catalogue_documents(owner, 40)[: len(texts)]
    for document, (title, description, tags) in zip(documents, texts, strict=True):
        document.update(title=title, description=description, tags=tags)
        document.update(videos.search_fields(document))
    hidden = {**catalogue_documents(owner, 41, seed=3)[0], "visibility": "private"}
    hidden.update(title="Piano secret", **videos.search_fields({"title": "Piano secret"}))
    insert_videos(app, [*documents, hidden])
    return {
        title: str(document["_id"])
        for document, (title, _, _) in zip(documents, texts, strict=True)
    }


def titles(client, headers, q):
    response = client.get("/videos", query_string={"q": q}, headers=headers)
    assert response.status_code == 200, response.json
    return sorted(video["title"] for video in response.json["videos"])


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("piano", ["Cats on a Piano", "Piano lesson"]),
        ("PIA", ["Cats on a Piano", "Piano lesson"]),  # a prefix: type-ahead
        ("p", ["Cats on a Piano", "Dogs at the beach", "Piano lesson"]),  # one letter: "pets"
        ("be ca", ["Piano lesson"]),
        ("ca pian", ["Cats on a Piano", "Piano lesson"]),
        ("piano jazz", ["Cats on a Piano"]),  # every word must match, description too
        ("jazz piano", ["Cats on a Piano"]),
        ("cafe", ["Piano lesson"]),  # accents ignored both ways
        ("CRÉ", ["Crème brûlée", "Dogs at the beach"]),
        ("francaise", ["Crème brûlée"]),  # tags
        ("ano", []),  # the start of a word, not any substring
        ("piano dogs", []),
        ("zebra", []),
        (".*", []),  # nothing searchable: no regex, no operators
        ("cats", ["Cats on a Piano"]),
    ],
)
def test_word_search(client, accounts, searchable, q, expected):
    viewer = accounts.bearer(accounts.user_with_token())
    assert titles(client, viewer, q) == expected


def test_an_edit_is_searchable_at_once(client, accounts, creator, searchable):
    video_id = searchable["Dogs at the beach"]
    edit = {"tags": ["surfing"]}
    response = client.patch(f"/video/{video_id}", json=edit, headers=accounts.bearer(creator))
    assert response.status_code == 200
    viewer = accounts.bearer(accounts.user_with_token())
    assert titles(client, viewer, "surf") == ["Dogs at the beach"]
    assert titles(client, viewer, "dogs pets") == []
    assert titles(client, viewer, "dogs crete") == ["Dogs at the beach"]


def test_a_common_word_pages_like_any_list(app, client, accounts, owner):
    documents = catalogue_documents(owner, 90)
    for index, document in enumerate(documents):
        document["title"] = f"Common clip {index}" + (" rare" if index % 10 == 0 else "")
        document.update(videos.search_fields(document))
    newest = insert_videos(app, documents)
    viewer = accounts.bearer(accounts.user_with_token())
    items, _ = walk(client, "/videos?q=common", viewer, per_page=8)
    assert [item["id"] for item in items] == [str(doc["_id"]) for doc in newest]
    rare, _ = walk(client, "/videos?q=rare+clip", viewer, per_page=3)
    assert [item["id"] for item in rare] == [
        str(doc["_id"]) for doc in newest if doc["title"].endswith("rare")
    ]


def test_videos_stored_before_search_get_keywords_at_start_up(make_app, owner, app):
    documents = catalogue_documents(owner, 45)[:3]
    for document in documents:
        del document["keywords"]
    insert_videos(app, documents)
    ids = {"_id": {"$in": [document["_id"] for document in documents]}}
    with app.app_context():
        get_db().migrations.delete_many({})
    restarted = make_app()  # its start-up tasks run the migration
    # and queue the videos' HLS ladders, which its job threads may claim meanwhile
    not_ladder = {"hls_job": 0}
    with restarted.app_context():
        stored = list(get_db().videos.find(ids, not_ladder))
        assert get_db().migrations.find_one({"_id": videos.KEYWORDS_MIGRATION}) is not None
        videos.add_missing_keywords(get_db())  # again: nothing changes
        assert list(get_db().videos.find(ids, not_ladder)) == stored
    for document in stored:
        assert document["keywords"] == videos.search_fields(document)["keywords"]
