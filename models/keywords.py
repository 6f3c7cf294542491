"""Words for search: normalised, and their prefixes, so a prefix match is an equality.

The embedded development server has no text index and an unanchored ``$regex`` reads every
title, so each video keeps an array of keywords under a multikey index: each normalised word of
its title, tags and description, and each word's prefixes from ``MIN_PREFIX`` letters. A query
word matches when it begins one of the video's words (type-ahead: "pian" finds "Piano").
Normalising: case folded, Unicode compatibility decomposition, combining marks dropped
(accents); words are runs of letters and digits.
"""

import re
import unicodedata

MAX_WORD_LENGTH = 20  # longer words are indexed (and searched) by their first 20 characters
MAX_WORDS = 64  # distinct words a video is found by: its title's, then tags', then description's
MAX_QUERY_WORDS = 10
# Prefixes shorter than this are not stored: one or two letters begin a large share of all
# words, so such a query word is checked on the documents a time window reads (the index
# would hold far more entries than it saves), and a word that short is stored whole.
MIN_PREFIX = 3
_WORD = re.compile(r"[^\W_]+")


def words(text):
    """The normalised words of ``text``, in order (``"Café-Crème"`` → ``["cafe", "creme"]``)."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return [word[:MAX_WORD_LENGTH] for word in _WORD.findall(bare)]


def keywords(title, tags, description):
    """Every prefix of every distinct word a video is found by, sorted."""
    distinct = []
    for text in (title, *(tags or ()), description):
        for word in words(text):
            if word not in distinct:
                distinct.append(word)
    found = set()
    for word in distinct[:MAX_WORDS]:
        found.add(word)
        found.update(word[:length] for length in range(MIN_PREFIX, len(word)))
    return sorted(found)


def matches(word, video_keywords):
    """Whether a query ``word`` begins one of the words behind ``video_keywords``."""
    if len(word) >= MIN_PREFIX:
        return word in video_keywords
    return any(keyword.startswith(word) for keyword in video_keywords)


def is_indexed(word):
    """Whether the keyword index can find ``word`` by equality (see MIN_PREFIX)."""
    return len(word) >= MIN_PREFIX


def query_words(q):
    """The distinct words of a search, longest (usually rarest) first."""
    distinct = list(dict.fromkeys(words(q)))[:MAX_QUERY_WORDS]
    return sorted(distinct, key=len, reverse=True)
