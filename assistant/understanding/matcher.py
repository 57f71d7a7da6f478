"""Fuzzy intent matching with rapidfuzz over the expanded examples of an intent pack.

An utterance is scored against the expanded examples in one vectorised call
(``process.cdist``); per intent, the best example's similarity is combined with the content
words the utterance shares with the intent (:mod:`.terms`) and a keyword boost. Then, in order:

1. safety first: if any stretch of the utterance matches a safety example word for word, or a
   safety trigger word is said, a safety intent wins whatever else the sentence is about;
2. below the threshold, or closest to an ``out_of_scope`` intent, there is no intent;
3. two intents closer than the margin are reported as ambiguous (the dialog asks which);
4. slots are filled from the list values found in the sentence, wherever they are.

Large packs are not compared example by example: a trigram index picks the examples worth an
exact comparison (:mod:`.candidates`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np
from rapidfuzz import fuzz, process

from ..base.config import MatcherSettings
from ..base.normalize import normalize, normalize_tokens
from ..pack import slots as slotlib
from ..pack.candidates import TrigramIndex
from ..pack.intents import Intent, IntentPack
from ..pack.templates import SlotRef, expand
from ..pack.terms import TermIndex, stem

_Word = TypeVar("_Word", str, int)

FUZZY_WEIGHT = 0.6
"""Share of the score from the character-level similarity to the closest example; the rest
comes from the content words the utterance shares with the intent (:mod:`.terms`)."""
NEAR_EXACT = 85.0
NEAR_EXACT_GAP = 10.0
"""An utterance at least NEAR_EXACT similar (0..100) to an example scores at least that
similarity minus this gap: "another one" said word for word is clear although its words are
common ones."""
FULL_SCAN_LIMIT = 4000
"""Packs with more expanded examples than this compare only the trigram index's candidates."""
CANDIDATES = 500
"""How many examples (about) the trigram index hands to the exact comparison."""
SAFETY_MAX_WINDOW = 16
"""Longest stretch of an utterance (words) compared with safety examples."""
SAFETY_CHUNK = 200
"""A long message is checked for safety in pieces of this many words (overlapping by
:data:`SAFETY_MAX_WINDOW`)."""
EXACT_SAFETY_BELOW = 9
"""Safety examples shorter than this (words) must match a stretch exactly (at the default
safety threshold a one-word difference is only tolerated from nine words up)."""


@dataclass(frozen=True)
class Match:
    """The matcher's answer for one utterance."""

    text: str
    """The normalised utterance."""
    intent: str | None
    confidence: float
    """0..1: how close the utterance is to ``intent``; for no intent, how far it is from the
    nearest one (1 - that intent's score)."""
    slots: dict[str, str] = field(default_factory=dict)
    alternatives: tuple[tuple[str, float], ...] = ()
    """The best few intents and their confidence, best first."""
    ambiguous: bool = False
    """True when the runner-up is within the margin of ``intent``."""
    example: str | None = None
    """The expanded example that matched best."""


@dataclass(frozen=True)
class _Example:
    intent: int
    text: str
    slots: tuple[SlotRef, ...]


class Matcher:
    """Matches utterances to the intents of one pack; build once, call :meth:`match` often."""

    def __init__(self, pack: IntentPack, settings: MatcherSettings | None = None) -> None:
        self.pack = pack
        self.settings = settings or MatcherSettings()
        self.intents: list[Intent] = list(pack.intents.values())
        self.examples, safety_examples = self._expand_examples()
        self.safety_sentences = len(safety_examples)
        """How many sentences the safety intents expand to (kept in :attr:`_safety` only)."""
        self.texts = [e.text for e in self.examples]
        self.text_array = np.array(self.texts, dtype=object)
        self.owners = np.fromiter((e.intent for e in self.examples), dtype=np.intp,
                                  count=len(self.examples))
        starts = np.flatnonzero(np.r_[True, self.owners[1:] != self.owners[:-1]])
        ends = np.r_[starts[1:], len(self.owners)]
        self.segments = {
            int(self.owners[a]): (int(a), int(b)) for a, b in zip(starts, ends, strict=True)
        }
        """Intent -> (first, end) of its examples."""
        self.no_similarity = np.full(len(self.intents), -1.0)
        self.no_similarity[self.owners] = 0.0
        """Fuzzy similarity before any comparison: 0 for intents with examples, else -1."""
        self.slot_lists = [intent.slot_lists() for intent in self.intents]
        self.context_array = np.array([i.context or "" for i in self.intents], dtype=object)
        self.in_context = self.context_array != ""
        self.names = [intent.name for intent in self.intents]
        self._keywords(pack)
        self.values = slotlib.ValueIndex(
            {name: slot_list.phrases() for name, slot_list in pack.lists.items()},
            {word for e in self.examples + safety_examples for word in e.text.split()},
        )
        used_lists = {s.list_name for e in self.examples for s in e.slots}
        self.builtins = {
            name: finder for name, finder in slotlib.BUILTIN_FINDERS.items() if name in used_lists
        }
        per_intent: list[list[str]] = [[] for _ in self.intents]
        for example in self.examples:
            per_intent[example.intent].append(example.text)
        self.terms = TermIndex(per_intent, [i.keywords for i in self.intents])
        self.trigrams = TrigramIndex(self.texts) if len(self.texts) > FULL_SCAN_LIMIT else None
        self._safety_setup(safety_examples)

    def _expand_examples(self) -> tuple[list[_Example], list[_Example]]:
        """(the sentences the fuzzy scorer compares with, every sentence of the safety
        intents)."""
        result: list[_Example] = []
        safety: list[_Example] = []
        for index, intent in enumerate(self.intents):
            seen: set[str] = set()
            for example in intent.examples:
                for tokens in expand(example.tree):
                    text = normalize(" ".join(
                        "@" + t.list_name if isinstance(t, SlotRef) else t for t in tokens
                    ))
                    if text and text not in seen:
                        seen.add(text)
                        slots = tuple(t for t in tokens if isinstance(t, SlotRef))
                        sentence = _Example(index, text, slots)
                        # Safety is decided by its word windows alone (a safety intent
                        # never wins on fuzzy similarity), so its sentences stay out of the
                        # fuzzy scorer, where they were a fifth of the work.
                        (safety if intent.safety else result).append(sentence)
        return result, safety

    def _keywords(self, pack: IntentPack) -> None:
        """Keyword (words) -> intents that declare it."""
        self.keywords: dict[tuple[str, ...], list[int]] = {}
        for index, intent in enumerate(self.intents):
            if intent.safety:
                continue
            for keyword in {normalize(k) for k in intent.keywords} - {""}:
                self.keywords.setdefault(tuple(keyword.split()), []).append(index)
        self.keyword_finder = _Phrases(self.keywords)

    def _safety_setup(self, examples: list[_Example]) -> None:
        self.safety_intents = [i for i, intent in enumerate(self.intents) if intent.safety]
        self.triggers = {
            i: [tuple(normalize(k).split()) for k in self.intents[i].keywords if normalize(k)]
            for i in self.safety_intents
        }
        self.trigger_finder = _Phrases(t for ts in self.triggers.values() for t in ts)
        self.safety_lists = {
            s.list_name for e in examples for s in e.slots
        }
        exceptions = [
            normalize(" ".join("@" + t.list_name if isinstance(t, SlotRef) else t
                               for t in tokens))
            for i in self.safety_intents for example in self.intents[i].not_safety
            for tokens in expand(example.tree)
        ]
        self._safety = _SafetyIndex(examples, exceptions)

    # ------------------------------------------------------------------------------ matching

    def match(
        self, utterance: str, context: str | None = None, only: Collection[str] | None = None
    ) -> Match:
        """Best intent for ``utterance``; ``only`` limits the candidates to those names."""
        tokens = normalize_tokens(utterance)
        text = " ".join(tokens)
        if not tokens:
            return Match(text, None, 0.0)
        spans = self._spans(tokens)
        substituted = self._substitute(tokens, spans, exclude=self.safety_lists)
        queries = [text] if substituted == text else [text, substituted]
        compared, similarity = self._score(queries)
        fuzzy = self.no_similarity.copy()
        owners = self.owners[compared]  # in order: an intent's examples are side by side
        if len(owners):
            firsts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
            fuzzy[owners[firsts]] = np.maximum.reduceat(similarity, firsts)
        scores = FUZZY_WEIGHT * fuzzy + (1 - FUZZY_WEIGHT) * 100 * self.terms.scores(tokens)
        # A (nearly) word-for-word example is strong evidence whatever the content words say.
        scores = np.maximum(scores, np.where(fuzzy >= NEAR_EXACT, fuzzy - NEAR_EXACT_GAP, 0))
        self._boost(scores, tokens)
        self._mask(scores, context, only)

        safety = self._safety_hit(tokens, spans, scores)
        if safety is None:
            # Without a safety hit, a safety intent never wins on a loose resemblance.
            scores[self.safety_intents] = np.minimum(scores[self.safety_intents], 0)
        best = int(scores.argmax()) if safety is None else safety
        order = np.argsort(-scores)[:4]
        alternatives = tuple(
            (self.names[i], round(min(float(scores[i]) / 100, 1.0), 3))
            for i in order if scores[i] > 0
        )
        score = min(float(scores[best]) / 100, 1.0)
        if safety is not None:
            score = max(score, self._safety.last_score / 100)
        elif score < self.settings.threshold or self.intents[best].out_of_scope:
            nearest = next(
                (s for n, s in alternatives if not self.pack.intents[n].out_of_scope), 0.0
            )
            return Match(text, None, round(1.0 - nearest, 3), {}, alternatives)
        runner_up = next((s for name, s in alternatives if name != self.names[best]), 0.0)
        ambiguous = safety is None and runner_up >= self.settings.threshold and (
            score - runner_up < self.settings.margin
        )
        example = self._best_example(best, compared, similarity) if safety is None else None
        return Match(
            text, self.names[best], round(score, 3), self._fill_slots(best, example, spans),
            alternatives, ambiguous,
            example.text if example is not None else self._safety.last_example,
        )

    def safety(self, utterance: str) -> Match | None:
        """The safety match if any part of ``utterance`` is about danger, else None. Takes
        text of any length (a long message is checked piece by piece), so it can run before
        any limit or refusal."""
        tokens = normalize_tokens(utterance)
        if not tokens or not self.safety_intents:
            return None
        step = SAFETY_CHUNK - SAFETY_MAX_WINDOW  # pieces overlap by the longest window
        for start in range(0, max(len(tokens) - SAFETY_MAX_WINDOW, 1), step):
            piece = tokens[start : start + SAFETY_CHUNK]
            hit = self._safety_hit(piece, self._spans(piece), np.zeros(len(self.intents)))
            if hit is not None:
                score = min(self._safety.last_score / 100, 1.0)
                return Match(" ".join(piece), self.names[hit], round(score, 3),
                             example=self._safety.last_example)
        return None

    def _spans(self, tokens: tuple[str, ...]) -> list[slotlib.Span]:
        spans = self.values.spans(tokens)
        for finder in self.builtins.values():
            spans.extend(finder(tokens))
        return spans

    @staticmethod
    def _substitute(
        tokens: tuple[str, ...], spans: list[slotlib.Span], exclude: Collection[str] = (),
        only: Collection[str] | None = None,
    ) -> str:
        chosen = [s for s in spans if s.list_name not in exclude
                  and (only is None or s.list_name in only)]
        return slotlib.substitute(tokens, slotlib.choose(chosen)) if chosen else " ".join(tokens)

    def _score(self, queries: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(indices of the examples compared, their similarity 0..100, the best over the query
        variants); the trigram index leaves out the examples not worth comparing."""
        if self.trigrams is None:
            matrix = process.cdist(queries, self.texts, scorer=fuzz.ratio, dtype=np.float32)
            return np.arange(len(self.texts)), matrix.max(axis=0)
        picked = self.trigrams.top(queries, CANDIDATES)
        matrix = process.cdist(queries, self.text_array[picked].tolist(), scorer=fuzz.ratio,
                               dtype=np.float32)
        return picked, matrix.max(axis=0)

    def _boost(self, scores: np.ndarray, tokens: tuple[str, ...]) -> None:
        """Add the keyword boost: once for one keyword, a third more for two or more."""
        hits = np.zeros(len(self.intents))
        for keyword in self.keyword_finder.find(tokens):
            hits[self.keywords[keyword]] += 1
        boost = self.settings.keyword_boost * 100
        bonus = np.where(hits >= 2, boost * 4 / 3, np.where(hits == 1, boost, 0.0))
        scores += np.where(scores > 0, bonus, 0.0)

    def _mask(self, scores: np.ndarray, context: str | None, only: Collection[str] | None) -> None:
        """Intents that cannot match here score -1: other contexts', and those not in ``only``."""
        hidden = self.in_context if context is None else self.in_context & (
            self.context_array != context)
        scores[hidden] = -1.0
        if only is not None:
            scores[[i for i, name in enumerate(self.names) if name not in only]] = -1.0

    def _safety_hit(
        self, tokens: tuple[str, ...], spans: list[slotlib.Span], scores: np.ndarray
    ) -> int | None:
        """Index of the safety intent that must win, or None.

        Safety wins when a trigger word of a safety intent is said, or when some stretch of
        the utterance matches a safety example (with the safety intents' own slot lists
        substituted, "my husband" -> "@someone").
        """
        if not self.safety_intents:
            return None
        said = self.trigger_finder.find(tokens)
        for index in self.safety_intents if said else ():
            trigger = next((t for t in self.triggers[index] if t in said), None)
            if scores[index] >= 0 and trigger is not None:
                self._safety.last_score, self._safety.last_example = 100.0, " ".join(trigger)
                return index
        substituted = tuple(self._substitute(tokens, spans, only=self.safety_lists).split())
        cutoff = self.settings.safety_threshold * 100
        for words in dict.fromkeys((tokens, substituted)):  # in this order, every run
            hit = self._safety.best(words, cutoff)
            if hit is not None and scores[hit] >= 0:
                return hit
        return None

    def _best_example(
        self, intent: int, compared: np.ndarray, similarity: np.ndarray
    ) -> _Example:
        """The intent's example most similar to the utterance (its first if none is)."""
        start, end = self.segments[intent]
        inside = np.flatnonzero((compared >= start) & (compared < end))
        if len(inside):
            best = inside[int(similarity[inside].argmax())]
            if similarity[best] > 0:
                return self.examples[int(compared[best])]
        return self.examples[start]

    def _fill_slots(
        self, intent_index: int, example: _Example | None, spans: list[slotlib.Span]
    ) -> dict[str, str]:
        """Slot name -> value, using only the lists this intent's examples use."""
        slot_lists = self.slot_lists[intent_index]
        if not slot_lists or not spans:
            return {}
        wanted = set(slot_lists.values())
        chosen = slotlib.choose([s for s in spans if s.list_name in wanted])
        order = [s.name for s in example.slots] if example is not None else []
        order += [name for name in slot_lists if name not in order]
        result: dict[str, str] = {}
        used: set[int] = set()
        for name in order:
            list_name = slot_lists.get(name)
            for position, span in enumerate(chosen):
                if position not in used and span.list_name == list_name and name not in result:
                    result[name] = span.value
                    used.add(position)
        return result


class _Phrases(Generic[_Word]):
    """Finds where an utterance says any of a set of phrases (sequences of words, or of word
    ids): at each word, only the lengths of the phrases that start with it are tried."""

    def __init__(self, phrases: Iterable[tuple[_Word, ...]]) -> None:
        self.phrases: set[tuple[_Word, ...]] = {phrase for phrase in phrases if phrase}
        lengths: dict[_Word, set[int]] = {}
        for phrase in self.phrases:
            lengths.setdefault(phrase[0], set()).add(len(phrase))
        self.lengths: dict[_Word, list[int]] = {
            first: sorted(found) for first, found in lengths.items()}
        """First word -> lengths of the phrases that start with it, shortest first."""

    def occurrences(self, words: Sequence[_Word]) -> list[tuple[int, tuple[_Word, ...]]]:
        """(start, phrase) of every phrase said, in order of start, then length."""
        found = []
        for start, word in enumerate(words):
            for length in self.lengths.get(word, ()):
                if start + length > len(words):
                    break
                phrase = tuple(words[start : start + length])
                if phrase in self.phrases:
                    found.append((start, phrase))
        return found

    def find(self, words: Sequence[_Word]) -> set[tuple[_Word, ...]]:
        """The phrases said."""
        return {phrase for _, phrase in self.occurrences(words)}


class _SafetyIndex:
    """Safety examples, compared word by word with every stretch of the utterance.

    Words are compared as stems ("hurts", "hurting" -> "hurt") but otherwise exactly: a
    character-level comparison would confuse "my partner keeps breaking" with "my partner keeps
    beating me", or "blaming myself" with "harming myself". Stretches are exactly as long as
    the example: a shorter one would let "i am terrified of" match "i am terrified of him", a
    longer one "i am scared of losing him" match "i am scared of him". Words inside an everyday
    phrase of the intent's ``not_safety`` list ("the silence is killing me") are not matched.
    """

    def __init__(self, examples: list[_Example], exceptions: Sequence[str] = ()) -> None:
        self.ids: dict[str, int] = {}
        self.exact: dict[tuple[int, ...], tuple[int, str]] = {}
        """Word ids of a short example -> (its intent, its text)."""
        self.exceptions = _Phrases(tuple(self._encode(text.split(), grow=True))
                                   for text in exceptions)
        """The everyday phrases that only look dangerous."""
        by_length: dict[int, tuple[list[list[int]], list[tuple[int, str]]]] = {}
        for example in examples:
            words = self._encode(example.text.split(), grow=True)
            if len(words) < EXACT_SAFETY_BELOW:
                self.exact.setdefault(tuple(words), (example.intent, example.text))
            else:
                texts, owners = by_length.setdefault(len(words), ([], []))
                texts.append(words)
                owners.append((example.intent, example.text))
        self.exact_finder = _Phrases(self.exact)
        # The longer examples, one length after another, and for each word id the examples
        # it appears in (once per appearance): counting, for the utterance's words, how often
        # each example is named skips at once the examples that share too few words with the
        # utterance to be one word away from a stretch of it.
        self.near_texts: list[list[int]] = []
        self.near_owners: list[tuple[int, str]] = []
        self.near_groups: list[tuple[int, int, int]] = []
        """(length, first, end) of each length's examples in :attr:`near_texts`."""
        for length, (texts, owners) in by_length.items():
            self.near_groups.append((length, len(self.near_texts),
                                     len(self.near_texts) + len(texts)))
            self.near_texts.extend(texts)
            self.near_owners.extend(owners)
        self.near_needed = np.array([len(t) - 1 for t in self.near_texts], dtype=np.int64)
        postings: dict[int, list[int]] = {}
        for index, words in enumerate(self.near_texts):
            for word in words:
                postings.setdefault(word, []).append(index)
        self.postings = {word: np.array(items, dtype=np.int64)
                         for word, items in postings.items()}
        self.last_score = 0.0
        """How similar (0..100) the last hit was to its example."""
        self.last_example: str | None = None
        """The safety example (or trigger) of the last hit."""

    def _encode(self, tokens: Sequence[str], grow: bool = False) -> list[int]:
        encoded: list[int] = []
        for token in tokens:
            key = stem(token)
            if key not in self.ids:
                if not grow:
                    encoded.append(-1 - len(encoded))  # unknown: equal to nothing
                    continue
                self.ids[key] = len(self.ids)
            encoded.append(self.ids[key])
        return encoded

    def best(self, tokens: tuple[str, ...], cutoff: float) -> int | None:
        """Safety intent index whose example is at least ``cutoff`` similar to some stretch."""
        self.last_score, self.last_example = 0.0, None
        encoded = self._encode(tokens)
        excused = self._excused(encoded)
        hits = [(len(phrase), start, phrase)
                for start, phrase in self.exact_finder.occurrences(encoded)
                if not any(excused[start : start + len(phrase)])]
        if hits:
            # the shortest example first, then the earliest (the order of a scan by length)
            intent, self.last_example = self.exact[min(hits)[2]]
            self.last_score = 100.0
            return intent
        return self._near(encoded, cutoff, excused)

    def _excused(self, encoded: list[int]) -> list[bool]:
        """Which words belong to an everyday phrase that only looks dangerous."""
        excused = [False] * len(encoded)
        for start, phrase in self.exceptions.occurrences(encoded):
            excused[start : start + len(phrase)] = [True] * len(phrase)
        return excused

    def _near(self, encoded: list[int], cutoff: float, excused: list[bool]) -> int | None:
        if len(encoded) < EXACT_SAFETY_BELOW or not self.near_texts:
            return None  # shorter than every example compared here
        said = [self.postings[w] for w in set(encoded) if w in self.postings]
        if not said:
            return None
        # one word may differ: an example needs length - 1 of its words in the utterance
        shared = np.bincount(np.concatenate(said), minlength=len(self.near_texts))
        close_all = np.flatnonzero(shared >= self.near_needed)
        if not len(close_all):
            return None
        best_owner: int | None = None
        for length, first, end in self.near_groups:
            if length > min(len(encoded), SAFETY_MAX_WINDOW):
                continue
            close = close_all[(close_all >= first) & (close_all < end)]
            if not len(close):
                continue
            starts = [i for i in range(len(encoded) - length + 1)
                      if not any(excused[i : i + length])]
            if not starts:
                continue
            windows = [encoded[i : i + length] for i in starts]
            matrix = process.cdist(
                windows, [self.near_texts[i] for i in close], scorer=fuzz.ratio,
                score_cutoff=cutoff, dtype=np.float32,
            )
            flat = int(matrix.argmax())
            score = float(matrix.flat[flat])
            if score >= cutoff and score > self.last_score:
                best_owner, self.last_example = self.near_owners[int(close[flat % len(close)])]
                self.last_score = score
        return best_owner
