"""The shopper's words: folding, and checking each against the index for typos."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

MAX_WORDS = 8
MAX_QUERY_LENGTH = 200
# Corrected without asking: one edit away, two letters swapped, or clearly similar by trigrams
# ("sweatr" and "sweater": 0.5). Anything further is only offered as "did you mean".
CONFIDENT_DISTANCE = 1
CONFIDENT_SIMILARITY = 0.4
_WORD = re.compile(r"[^\W_]+")


def words_of(query: str) -> list[str]:
    """Lower case, accents off ("Crème" is "creme"), split on anything not a letter or digit.

    The index folds with PostgreSQL's unaccent() the same way (search_fold in migration 0003).
    """
    decomposed = unicodedata.normalize("NFKD", query[:MAX_QUERY_LENGTH].casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _WORD.findall(plain)[:MAX_WORDS]


@dataclass(frozen=True)
class WordCheck:
    word: str
    stop_word: bool  # "the", "and": the search ignores it
    known: bool  # some product has it (after stemming), or it is a stop word
    nearest: str | None  # the closest word of the catalog, when the word is unknown
    similarity: float
    distance: int  # edit distance to `nearest` (capped at 3)

    @property
    def confident(self) -> bool:
        return self.nearest is not None and (
            self.distance <= CONFIDENT_DISTANCE
            or self.similarity >= CONFIDENT_SIMILARITY
            or _swapped(self.word, self.nearest)
        )

    @property
    def corrected(self) -> str:
        """The word to search for: the typed one unless it is unknown and a fix is clear."""
        if not self.known and self.confident and self.nearest:
            return self.nearest
        return self.word


def _swapped(typed: str, word: str) -> bool:
    """Two neighbouring letters swapped ("swaeter"): one slip of the fingers, two edits."""
    if len(typed) != len(word):
        return False
    differ = [i for i, (a, b) in enumerate(zip(typed, word, strict=True)) if a != b]
    return (
        len(differ) == 2
        and differ[1] == differ[0] + 1
        and typed[differ[0]] == word[differ[1]]
        and typed[differ[1]] == word[differ[0]]
    )


# Known: a stop word; or its stem is in the word list (titles, attributes, categories: an
# index lookup); or else any document has it (descriptions): a probe of the GIN index, kept
# apart by OFFSET 0, as a plain EXISTS is planned as a sequential scan hoping for an early
# hit, which for a misspelt word nobody has reads all 100,000 rows.
# Unknown words get their nearest catalog word: by trigrams (GIN index), or for short words,
# where trigrams say little, by edit distance among words with the same first letter and a
# similar length (btree index on both). Nearest: one edit first, then a word at least as long
# as the typed one (letters left out are the commonest slip: "sweatr" is "sweater", not
# "sweat"), then trigram similarity, then how many products have the word.
_CHECK = text(
    """
    WITH typed AS MATERIALIZED (
        SELECT w.word, w.ord, (tsvector_to_array(to_tsvector('english', w.word)))[1] AS lexeme
        FROM unnest(CAST(:words AS text[])) WITH ORDINALITY AS w(word, ord)
    ),
    checked AS MATERIALIZED (
        SELECT typed.word, typed.ord, typed.lexeme IS NULL AS stop_word,
            CASE WHEN typed.lexeme IS NULL THEN true
                 WHEN EXISTS (SELECT 1 FROM search_term t WHERE t.lexeme = typed.lexeme) THEN true
                 ELSE EXISTS (SELECT 1 FROM (
                          SELECT 1 FROM search_document d
                          WHERE d.search_vector @@ CAST(quote_literal(typed.lexeme) AS tsquery)
                          OFFSET 0) probe)
            END AS known
        FROM typed
    )
    SELECT c.word, c.stop_word, c.known, best.word AS nearest, best.similarity, best.distance
    FROM checked c
    LEFT JOIN LATERAL (
        SELECT t.word, similarity(t.word, c.word) AS similarity,
               levenshtein_less_equal(t.word, c.word, 3) AS distance
        FROM search_term t
        WHERE NOT c.known AND length(c.word) >= 3
          AND (t.word % c.word
               OR (left(t.word, 1) = left(c.word, 1)
                   AND length(t.word) BETWEEN length(c.word) - 2 AND length(c.word) + 2
                   AND levenshtein_less_equal(t.word, c.word, 2) <= 2))
        ORDER BY levenshtein_less_equal(t.word, c.word, 3) <= 1 DESC,
                 length(t.word) >= length(c.word) DESC,
                 similarity(t.word, c.word) DESC, t.frequency DESC, t.word
        LIMIT 1
    ) best ON true
    ORDER BY c.ord
    """
)


async def check_words(session: AsyncSession, words: Sequence[str]) -> list[WordCheck]:
    """One round trip for all the words, in their order."""
    if not words:
        return []
    rows = await session.execute(_CHECK, {"words": list(words)})
    return [
        WordCheck(
            row.word,
            row.stop_word,
            row.known,
            row.nearest,
            float(row.similarity or 0),
            row.distance or 0,
        )
        for row in rows.all()
    ]


def nearest_phrase(checks: Sequence[WordCheck]) -> str | None:
    """Every unknown word swapped for its nearest catalog word, if any was; else None."""
    if not any(not check.known and check.nearest for check in checks):
        return None
    return " ".join(
        check.nearest if not check.known and check.nearest else check.word for check in checks
    )
