"""Content-word evidence for the matcher: which intent do the meaningful words point to?

Character-level fuzzy matching rewards sentences *shaped* like an example; this module rewards
sentences that use the *words* of an intent. Each intent gets a TF-IDF vector over word stems
of its expanded examples and keywords; an utterance's stems (misheard ones mapped to the
nearest known stem) are compared with every intent at once (one matrix-vector product).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

STOPWORDS = frozenset("""
a about after again all also am an and any are as at be been before being both but by can
could did do does doing for from had has have having he her here hers him his how i if in
into is it its just me more most my no nor not now of off on once only or other our ours out
over own please same she should so some such than that the their theirs them then there these
they this those through to too under until up very was we were what when where which while
who whom why will with would you your yours um uh like really actually okay oh well
""".split())
"""Words that carry no topic (English); everything else counts as content."""

_SUFFIXES = ("ations", "ation", "ness", "ment", "ings", "ing", "ies", "ied", "ed", "es", "ly",
             "s")
"""Endings removed by :func:`stem` (the first that fits, leaving at least three letters)."""
_IRREGULAR = {
    "died": "die", "dying": "die", "lied": "lie", "lying": "lie", "lies": "lie", "ties": "tie",
    "tied": "tie",
}
STEM_LENGTH = 6
"""Stems are cut to this many letters ("apologise", "apology" and "apologize" -> "apolog")."""
FUZZY_STEM_CUTOFF = 84.0
"""A misheard word counts as a known one at this similarity (0..100)."""


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude stem: common endings off, a doubled last consonant and a final "e" undone, cut
    to six letters ("hitting" / "hits" -> "hit", "shoved" / "shoves" -> "shov",
    "apologise" / "apology" -> "apolog")."""
    word = _IRREGULAR.get(word, word)
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "es" and not word.endswith(("sses", "shes", "ches", "xes", "zes")):
                continue
            word = word[: -len(suffix)]
            if suffix in ("ing", "ed", "ings") and word[-1] == word[-2] and word[-1] not in "ls":
                word = word[:-1]
            break
    if len(word) >= 4 and word.endswith("e"):
        word = word[:-1]
    return word[:STEM_LENGTH]


def content_stems(tokens: Iterable[str]) -> list[str]:
    return [stem(t) for t in tokens if t not in STOPWORDS and not t.startswith("@")
            and not t.isdigit()]


def _shares(examples: Sequence[str], keywords: Iterable[str]) -> dict[str, float]:
    """Stem -> share (0..1) of the intent's examples that contain it; keywords count as 1."""
    counts: Counter[str] = Counter()
    for sentence in examples:
        counts.update(set(content_stems(sentence.split())))
    share = {s: c / max(len(examples), 1) for s, c in counts.items()}
    for keyword in keywords:
        for s in content_stems(keyword.split()):
            share[s] = 1.0
    return share


class TermIndex:
    """TF-IDF vectors of intents over word stems."""

    def __init__(
        self, intent_examples: Sequence[Sequence[str]], intent_keywords: Sequence[Iterable[str]]
    ) -> None:
        """``intent_examples[i]``: the normalised example sentences of intent ``i``."""
        n_intents = len(intent_examples)
        shares = [
            _shares(examples, keywords)
            for examples, keywords in zip(intent_examples, intent_keywords, strict=True)
        ]
        document_frequency: Counter[str] = Counter()
        for share in shares:
            document_frequency.update(share.keys())
        self.vocabulary = sorted(document_frequency)
        self.column = {s: i for i, s in enumerate(self.vocabulary)}
        self.idf = np.array(
            [math.log(1 + n_intents / document_frequency[s]) for s in self.vocabulary]
        )
        self.unknown_idf = math.log(1 + n_intents)
        matrix = np.zeros((n_intents, len(self.vocabulary)), dtype=np.float32)
        for row, share in enumerate(shares):
            for word_stem, fraction in share.items():
                column = self.column[word_stem]
                matrix[row, column] = (0.5 + 0.5 * fraction) * self.idf[column]
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self.matrix = matrix / np.where(norms > 0, norms, 1.0)
        self._fuzzy_vocabulary = [s for s in self.vocabulary if len(s) >= 5]

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        """Cosine similarity (0..1) of the utterance's content words to every intent."""
        stems = content_stems(tokens)
        if not stems:
            return np.zeros(self.matrix.shape[0], dtype=np.float32)
        weights: Counter[int] = Counter()
        unknown = 0.0
        for s in stems:
            column = self.column.get(s)
            if column is None:
                column = self._nearest(s)
            if column is None:
                unknown += self.unknown_idf ** 2
            else:
                weights[column] += 1
        if not weights:
            return np.zeros(self.matrix.shape[0], dtype=np.float32)
        columns = np.fromiter(weights.keys(), dtype=np.int64)
        values = np.fromiter(weights.values(), dtype=np.float64) * self.idf[columns]
        norm = math.sqrt(float(values @ values) + unknown)
        result: np.ndarray = (self.matrix[:, columns] @ values) / norm
        return result

    def _nearest(self, word_stem: str) -> int | None:
        if len(word_stem) < 5 or not self._fuzzy_vocabulary:
            return None
        found = process.extractOne(word_stem, self._fuzzy_vocabulary, scorer=fuzz.ratio,
                                   score_cutoff=FUZZY_STEM_CUTOFF)
        return self.column[found[0]] if found else None
