"""Words for search: normalised, and every prefix of each, so a prefix match is an equality.

The embedded development server has no text index and an unanchored ``$regex`` reads every
title, so each video keeps an array of keywords under a multikey index. A keyword is a prefix
of a normalised word of its title, tags or description; a query word matches when it is one
of them (type-ahead: "pian" finds "Piano"). Normalising: case folded, Unicode compatibility
decomposition, combining marks dropped (accents); words are runs of letters and digits.
"""

import re
import unicodedata

MAX_WORD_LENGTH = 20  # longer words are indexed (and searched) by their first 20 characters
MAX_WORDS = 64  # distinct words a video is found by: its title's, then tags', then description's
MAX_QUERY_WORDS = 10
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
        found.update(word[:length] for length in range(1, len(word) + 1))
    return sorted(found)


def query_words(q):
    """The distinct words of a search, longest (usually rarest) first."""
    distinct = list(dict.fromkeys(words(q)))[:MAX_QUERY_WORDS]
    return sorted(distinct, key=len, reverse=True)
