"""Finding slot values in an utterance: the pack's lists (exact and fuzzy) and built-in lists.

Values are found wherever they are in the sentence, independently of the words around them:
a recogniser often gets the filler words wrong and the values right.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from ..base.lang import en
from .terms import STOPWORDS

FUZZY_VALUE_CUTOFF = 85.0
"""Similarity (0..100) a misheard list value needs to count as that value."""


@dataclass(frozen=True)
class Span:
    """A list value found at tokens ``start:end`` of the normalised utterance."""

    start: int
    end: int
    list_name: str
    value: str
    score: float = 100.0

    @property
    def placeholder(self) -> str:
        return "@" + self.list_name


NEAR_WORD = 60.0
"""A window is compared only with the list values that have a word (other than a stopword) at
least this similar (0..100) to a word of the utterance, and with the values that have none: a
window can hardly sound like "my daughter" without a word like "daughter". It halves the
comparisons and gave every test and held-out utterance the values that comparing every
value gives (at 70 some lost theirs). What it can miss: a short word run together with the
next ("saythat" for "says that")."""
LENGTH_SPREAD = 200 / FUZZY_VALUE_CUTOFF - 1
"""Texts whose lengths differ by more than this factor score below the fuzzy cutoff whatever
their letters (fuzz.ratio is at most 2 * shorter / (sum of lengths))."""
ROWS = 128
"""Windows compared at once (a long utterance is looked up in parts, to bound the memory)."""
HEARD_CACHE = 100_000
"""Most window texts whose fuzzy lookup is remembered (then the memory starts again)."""
FUZZY_TWIN = 90.0
"""A spoken form this similar to one already kept for the same value and word count ("the
sons", "the son") is left out of the fuzzy lookup: the kept one finds the same mishearings,
and the lookup, done for every utterance, stays fast (exact lookup keeps every form)."""


def _covered(spoken: str, kept: list[str]) -> bool:
    """Whether a form in ``kept`` is a near twin of ``spoken`` (:data:`FUZZY_TWIN`)."""
    return bool(kept) and process.extractOne(
        spoken, kept, scorer=fuzz.ratio, score_cutoff=FUZZY_TWIN) is not None


@dataclass(frozen=True)
class _Form:
    """A spoken form of a list value, as the fuzzy lookup knows it."""

    text: str
    list_name: str
    value: str
    words: int


class ValueIndex:
    """The spoken forms of every list value, for exact and fuzzy lookup."""

    def __init__(
        self, phrases: dict[str, list[tuple[str, str]]], vocabulary: Iterable[str] = (),
        near_word: float = NEAR_WORD,
    ) -> None:
        """``phrases``: list name -> [(normalised spoken form, value), ...]; ``vocabulary``:
        words users are likely to say (the pack's), whose like values are found in advance;
        ``near_word``: see :data:`NEAR_WORD`."""
        self.near_word = near_word
        self.exact: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        forms: list[_Form] = []
        for list_name, pairs in phrases.items():
            kept: dict[tuple[str, int], list[str]] = {}
            for spoken, value in pairs:
                tokens = tuple(spoken.split())
                if not tokens:
                    continue
                self.exact.setdefault(tokens, []).append((list_name, value))
                same = kept.setdefault((value, len(tokens)), [])
                if len(spoken) >= 5 and not _covered(spoken, same):
                    same.append(spoken)
                    forms.append(_Form(spoken, list_name, value, len(tokens)))
        self.max_len = max((len(t) for t in self.exact), default=0)
        # Shortest first: of two equally close forms, the shorter is taken.
        self.forms = sorted(forms, key=lambda f: len(f.text))
        self.fuzzy_texts = [f.text for f in self.forms]
        self._form_words = np.array([f.words for f in self.forms], dtype=np.intp)
        self._form_lengths = np.array([len(f.text) for f in self.forms], dtype=np.intp)
        self._with_word: dict[str, list[int]] = {}
        """Word (not a stopword) -> the forms that have it."""
        without: list[int] = []
        for index, text in enumerate(self.fuzzy_texts):
            content = set(text.split()) - STOPWORDS
            for word in content:
                self._with_word.setdefault(word, []).append(index)
            if not content:
                without.append(index)
        self._without_words = np.array(without, dtype=np.intp)
        """The forms made of stopwords alone ("is there"): compared with every window."""
        self._words = list(self._with_word)
        self._near: dict[str, np.ndarray] = {}
        """Word of an utterance -> the forms that have a word like it (:data:`NEAR_WORD`)."""
        known = sorted(set(vocabulary))
        self._known = dict(zip(known, self._find_forms_like(known), strict=True))
        """The same for the words of ``vocabulary``, kept for good."""
        self._heard: dict[str, tuple[str, str, float] | None] = {}
        """Window text -> (list, value, score) of the value it sounds like, or None."""

    def spans(self, tokens: tuple[str, ...]) -> list[Span]:
        """Every exact and fuzzy value occurrence (overlaps included)."""
        found: list[Span] = []
        windows: list[tuple[int, int]] = []
        for start in range(len(tokens)):
            for end in range(start + 1, min(len(tokens), start + self.max_len + 1) + 1):
                hits = self.exact.get(tokens[start:end])
                if hits:
                    found.extend(Span(start, end, name, value) for name, value in hits)
                else:
                    windows.append((start, end))
        if windows and self.forms:
            found.extend(self._fuzzy(tokens, windows))
        return found

    def _fuzzy(self, tokens: tuple[str, ...], windows: list[tuple[int, int]]) -> list[Span]:
        """Windows that sound like a value with one word more or less than they have. What a
        window text sounds like is remembered (the same few words come back in most
        utterances: "my partner", "how do i")."""
        if len(self._heard) > HEARD_CACHE:
            self.forget()
        texts = [" ".join(tokens[start:end]) for start, end in windows]
        new: dict[str, int] = {}
        for (start, end), text in zip(windows, texts, strict=True):
            if len(text) >= 4 and text not in self._heard:
                new[text] = end - start
        if new:
            candidates = self._candidates(set(tokens))
            unheard = sorted(new, key=len)
            for first in range(0, len(unheard), ROWS):
                part = unheard[first : first + ROWS]
                self._look_up(part, np.array([new[t] for t in part], dtype=np.intp), candidates)
        result = []
        for (start, end), text in zip(windows, texts, strict=True):
            hit = self._heard.get(text)
            if hit is not None:
                result.append(Span(start, end, *hit))
        return result

    def forget(self) -> None:
        """Drop what window texts and words were found to sound like."""
        self._heard.clear()
        self._near.clear()

    def _candidates(self, words: set[str]) -> np.ndarray:
        """The forms worth comparing with windows of an utterance of ``words``, shortest
        first."""
        near = np.zeros(len(self.forms), dtype=bool)
        near[self._without_words] = True
        for word in words:
            near[self._forms_like(word)] = True
        return np.flatnonzero(near)

    def _look_up(self, texts: list[str], sizes: np.ndarray, forms: np.ndarray) -> None:
        """Find the closest of ``forms`` to each of ``texts`` (windows of ``sizes`` words,
        shortest first) and remember it in :attr:`_heard` (None for no value)."""
        self._heard.update(dict.fromkeys(texts))
        lengths = self._form_lengths[forms]
        forms = forms[int(np.searchsorted(lengths, len(texts[0]) / LENGTH_SPREAD, "left")) :
                      int(np.searchsorted(lengths, len(texts[-1]) * LENGTH_SPREAD, "right"))]
        if not len(forms):
            return
        scores = process.cdist(texts, [self.fuzzy_texts[c] for c in forms.tolist()],
                               scorer=fuzz.ratio, score_cutoff=FUZZY_VALUE_CUTOFF,
                               dtype=np.float32)
        # a window may sound like a value with one word more or less, not more than that
        scores[np.abs(sizes[:, None] - self._form_words[forms][None, :]) > 1] = 0
        best = scores.argmax(axis=1)
        top = scores[np.arange(len(texts)), best]
        for text, column, score in zip(texts, best.tolist(), top.tolist(), strict=True):
            if score > 0:
                form = self.forms[int(forms[column])]
                self._heard[text] = (form.list_name, form.value, score)

    def _forms_like(self, word: str) -> np.ndarray:
        found = self._known.get(word)
        if found is None:
            found = self._near.get(word)
        if found is None:
            found = self._near[word] = self._find_forms_like([word])[0]
        return found

    def _find_forms_like(self, words: list[str]) -> list[np.ndarray]:
        """For each of ``words``, the forms that have a word like it."""
        if self.near_word <= 0:  # every value is near every word
            return [np.arange(len(self.forms)) for _ in words]
        if not words or not self._words:
            return [np.zeros(0, dtype=np.intp) for _ in words]
        similar = process.cdist(words, self._words, scorer=fuzz.ratio,
                                score_cutoff=self.near_word, dtype=np.uint8)
        return [
            np.array([i for column in np.flatnonzero(row) for i in self._with_word[
                self._words[column]]], dtype=np.intp)
            for row in similar
        ]


def choose(spans: list[Span]) -> list[Span]:
    """Non-overlapping spans in sentence order: exact values first (longest first), then
    misheard ones where no exact value was found."""
    ranked = sorted(spans, key=lambda s: (s.score < 100, -(s.end - s.start), -s.score, s.start))
    taken: list[Span] = []
    for span in ranked:
        if all(span.end <= t.start or span.start >= t.end for t in taken):
            taken.append(span)
    return sorted(taken, key=lambda s: s.start)


def substitute(tokens: tuple[str, ...], spans: list[Span]) -> str:
    """The utterance with each chosen span replaced by its ``@list`` placeholder."""
    out: list[str] = []
    position = 0
    for span in spans:
        out.extend(tokens[position : span.start])
        out.append(span.placeholder)
        position = span.end
    out.extend(tokens[position:])
    return " ".join(out)


# ---------------------------------------------------------------------------- built-in lists

def time_spans(tokens: tuple[str, ...]) -> list[Span]:
    """Spoken clock times ("half past 8 in the morning", "9 30 pm", "21:00") as ``HH:MM``,
    by the language's rules (:func:`assistant.base.lang.en.clock_times`)."""
    return [Span(start, end, "time", value) for start, end, value in en.clock_times(tokens)]


def says_part_of_day(tokens: tuple[str, ...]) -> bool:
    """Whether the utterance says which half of the day its clock time is in ("pm", "in the
    morning", "tonight"...): without it, "move it to ten" could be 10:00 or 22:00."""
    return en.says_part_of_day(tokens)


def number_spans(tokens: tuple[str, ...]) -> list[Span]:
    """Every number said as digits (number words are already digits after normalisation)."""
    return [Span(i, i + 1, "number", token) for i, token in enumerate(tokens) if token.isdigit()]


BUILTIN_FINDERS = {"time": time_spans, "number": number_spans}
