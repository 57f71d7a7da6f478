"""Choosing which examples are worth an exact fuzzy comparison.

Comparing an utterance with every expanded example costs about 60 ns per example; with a
large pack that dominates. Examples that share few character trigrams with the utterance cannot
be similar to it, so an inverted index of trigrams ranks all examples by their overlap (Dice
coefficient) with a few numpy operations, and only the best ones are compared exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

COMMON_SHARE = 0.25
"""Trigrams found in more than this share of the examples (" th", "the") are not indexed:
they say little about similarity and would make every lookup slow."""
BINS = 64
"""Resolution of the Dice ranking (0..1 in this many steps)."""


def trigrams(text: str) -> set[str]:
    padded = f" {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class TrigramIndex:
    """Ranks example texts by the character trigrams they share with a query."""

    def __init__(self, texts: Sequence[str]) -> None:
        postings: dict[str, list[int]] = {}
        sizes = np.zeros(len(texts), dtype=np.float32)
        for index, text in enumerate(texts):
            grams = trigrams(text)
            sizes[index] = len(grams)
            for gram in grams:
                postings.setdefault(gram, []).append(index)
        self.size = len(texts)
        self.sizes = sizes
        self.postings = {
            gram: np.array(items, dtype=np.int32)
            for gram, items in postings.items() if len(items) <= COMMON_SHARE * self.size
        }
        """Trigram -> the examples that have it (but for the common trigrams)."""

    def _shared(self, grams: set[str]) -> np.ndarray:
        """How many of ``grams`` each example has."""
        found = [self.postings[g] for g in grams if g in self.postings]
        hits = np.concatenate(found) if found else np.zeros(0, dtype=np.int32)
        return np.bincount(hits, minlength=self.size)

    def _dice(self, shared: np.ndarray, grams: int) -> np.ndarray:
        """Trigram Dice overlap (0..1) with every example of a query of ``grams`` trigrams,
        ``shared`` of them with each example (common ones left out, so it is a lower bound)."""
        dice = shared.astype(np.float32)
        dice *= 2
        dice /= self.sizes + np.float32(grams)
        return dice

    def top(self, queries: Sequence[str], count: int) -> np.ndarray:
        """Indices of about ``count`` examples (at least) with the best overlap with any query."""
        if count >= self.size:
            return np.arange(self.size)
        grams = [trigrams(q) for q in queries]
        # the variants of one utterance share most trigrams: those are counted once
        both = set.intersection(*grams)
        shared = self._shared(both)
        best: np.ndarray | None = None
        for these in grams:
            own = these - both
            dice = self._dice(shared + self._shared(own) if own else shared, len(these))
            best = dice if best is None else np.maximum(best, dice, out=best)
        assert best is not None
        best *= BINS
        bins = best.astype(np.intp)
        np.minimum(bins, BINS - 1, out=bins)
        from_top = np.cumsum(np.bincount(bins, minlength=BINS)[::-1])
        cutoff = BINS - 1 - int(np.searchsorted(from_top, count))
        chosen: np.ndarray = np.flatnonzero(bins >= cutoff)
        return chosen
