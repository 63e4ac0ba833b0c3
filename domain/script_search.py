"""Search by Russian word forms, for finding an objection by what a client said.

A document is a list of phrases (an objection's title and keywords). `PhraseIndex.search`
matches the words of a query against them after Russian stemming, so "дороговато" and "цена
высокая" both find "Дорого". Words that say nothing about which objection is meant ("нет",
"уже") are ignored.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_WORD = re.compile(r"[0-9a-zа-я]+")

_STOP_WORDS_TEXT = """
а без бы в вам вас во вот все да для до его ее если есть еще же за и из или им их к как ко ли
либо мне меня мной мы на нам нас наш наша наше наши не нет ни но ну о об от по при про с со так
там тем то тоже тот ту тут у уж уже чем что чтобы эта эти это этого этот я вы ваш ваша ваше ваши
он она оно они был была было были будет будем будут надо очень просто пожалуйста пока ведь вообще
давайте
"""

STOP_WORDS: frozenset[str] = frozenset(_STOP_WORDS_TEXT.split())
"""Words that say nothing about which objection is meant; search ignores them (so "нет" alone
finds nothing, while "нет времени" and "нет денег" find different objections)."""

_MIN_SHARED_PREFIX = 4
"""Two different stems match when one starts with the other and the words share at least this
many first letters: "дороговато" (stem "дороговат") matches "дорого" (stem "дор", shared
"дорог"), while "потом" (stem "пот") does not match "потребность" (shared "пот")."""


@functools.cache
def _stemmer() -> Any:
    # snowballstemmer's package imports all of its ~36 languages (~11,000 objects): left for the
    # first search rather than every start.
    import snowballstemmer  # type: ignore[import-untyped]

    return snowballstemmer.stemmer("russian")


def _normalise(text: str) -> str:
    return text.lower().replace("ё", "е")


def search_words(text: str) -> list[str]:
    """The words of `text` that search uses: lower case, ё as е, no punctuation or stop words."""
    return [word for word in _WORD.findall(_normalise(text)) if word not in STOP_WORDS]


@functools.lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    # The snowball stemmer object keeps state between calls: fine for the bot's one thread.
    return str(_stemmer().stemWord(word))


@dataclass(frozen=True, slots=True)
class _Term:
    word: str
    stem: str


def _terms(text: str) -> list[_Term]:
    return [_Term(word, _stem(word)) for word in search_words(text)]


def _match(query: _Term, term: _Term) -> float:
    if query.stem == term.stem:
        return 1.0
    shorter, longer = sorted((query.stem, term.stem), key=len)
    if not longer.startswith(shorter):
        return 0.0
    shared = 0
    for a, b in zip(query.word, term.word, strict=False):
        if a != b:
            break
        shared += 1
    return 0.75 if shared >= _MIN_SHARED_PREFIX else 0.0


@dataclass(frozen=True, slots=True)
class _Document:
    phrases: tuple[tuple[_Term, ...], ...]
    """Each phrase with a word search can use, as terms."""
    terms: tuple[_Term, ...]
    """All terms of the phrases, once each."""

    @classmethod
    def of(cls, phrases: Iterable[str]) -> _Document:
        as_terms = tuple(tuple(_terms(text)) for text in phrases if _terms(text))
        return cls(as_terms, tuple(_unique_terms(t for p in as_terms for t in p)))


def _unique_terms(terms: Iterable[_Term]) -> list[_Term]:
    seen: set[_Term] = set()
    unique: list[_Term] = []
    for term in terms:
        if term not in seen:
            seen.add(term)
            unique.append(term)
    return unique


class PhraseIndex:
    """Documents, each a list of phrases, searchable by the words of a query. Immutable.

    The phrases are stemmed at the first search, not when the index is made: the script library
    builds its index at every start, and most starts never search."""

    def __init__(self, documents: Iterable[Sequence[str]]) -> None:
        self._phrases = [tuple(phrases) for phrases in documents]

    @functools.cached_property
    def _stemmed(self) -> tuple[list[_Document], dict[str, float]]:
        """The documents as terms, and each stem's weight (1 / the documents it is in)."""
        documents = [_Document.of(phrases) for phrases in self._phrases]
        frequency: dict[str, int] = {}
        for document in documents:
            for stem in {term.stem for term in document.terms}:
                frequency[stem] = frequency.get(stem, 0) + 1
        return documents, {stem: 1 / count for stem, count in frequency.items()}

    def search(self, query: str, limit: int) -> list[int]:
        """The positions of the documents that share words with `query`, best first.

        Words are compared by their Russian stems, case- and ё-insensitive, ignoring punctuation
        and stop words; a stem that starts another ("дороговат" / "дор") counts a little less
        than the same stem. Each query word adds its best match in the document, weighted by
        how rare the matched word is in the index (a word in four documents says less than a
        word in one). On equal scores a document with a whole phrase in the query ranks first,
        then index order. A query with nothing in common returns [].
        """
        query_terms = _unique_terms(_terms(query))
        if not query_terms or limit <= 0:
            return []
        documents, weight = self._stemmed
        scored: list[tuple[float, bool, int]] = []
        for position, document in enumerate(documents):
            score = 0.0
            matched: set[_Term] = set()
            for query_term in query_terms:
                best = 0.0
                for term in document.terms:
                    closeness = _match(query_term, term)
                    if closeness > 0:
                        matched.add(term)
                        best = max(best, closeness * weight[term.stem])
                score += best
            if score > 0:
                whole = any(set(phrase) <= matched for phrase in document.phrases)
                scored.append((score, whole, position))
        scored.sort(key=lambda item: (-item[0], not item[1], item[2]))
        return [position for _, _, position in scored[:limit]]
