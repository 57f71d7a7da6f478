"""Fuzzy intent matching with rapidfuzz over the expanded examples of an intent pack.

One utterance is scored against every expanded example in one vectorised call
(``process.cdist``), scores are aggregated per intent (best example), keywords add a boost,
and then, in order:

1. safety first: if any stretch of the utterance is close to a safety example, a safety intent
   wins whatever else the sentence is about;
2. below the threshold there is no intent;
3. two intents closer than the margin are reported as ambiguous (the dialog asks which);
4. slots are filled from the values found in the sentence, wherever they are.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from . import slots as slotlib
from .config import MatcherSettings
from .intents import Intent, IntentPack
from .normalize import normalize, normalize_tokens
from .templates import SlotRef, expand
from .terms import TermIndex, stem

SAFETY_MAX_WINDOW = 12
"""Longest stretch of an utterance (words) compared with safety examples."""
FUZZY_WEIGHT = 0.6
"""Share of the score from the character-level similarity to the closest example; the rest
comes from the content words the utterance shares with the intent (:mod:`.terms`)."""


@dataclass(frozen=True)
class Match:
    """The matcher's answer for one utterance."""

    text: str
    """The normalised utterance."""
    intent: str | None
    confidence: float
    """0..1: similarity to the closest example of ``intent`` (with keyword boosts)."""
    slots: dict[str, str] = field(default_factory=dict)
    alternatives: tuple[tuple[str, float], ...] = ()
    """The best few intents and their confidence, best first (``intent`` included)."""
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
        self.examples = self._expand_examples()
        self.texts = [e.text for e in self.examples]
        owners = np.fromiter((e.intent for e in self.examples), dtype=np.int32)
        self.starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        self.segment_intent = owners[self.starts]
        ends = np.r_[self.starts[1:], len(owners)]
        self.segments = {
            int(i): (int(a), int(b))
            for i, a, b in zip(self.segment_intent, self.starts, ends, strict=True)
        }
        self.keywords = [
            {normalize(k) for k in intent.keywords if normalize(k)} for intent in self.intents
        ]
        self.values = slotlib.ValueIndex(
            {name: slot_list.phrases() for name, slot_list in pack.lists.items()}
        )
        used_lists = {s.list_name for e in self.examples for s in e.slots}
        self.builtins = {
            name: finder for name, finder in slotlib.BUILTIN_FINDERS.items() if name in used_lists
        }
        per_intent: list[list[str]] = [[] for _ in self.intents]
        for example in self.examples:
            per_intent[example.intent].append(example.text)
        self.terms = TermIndex(per_intent, [i.keywords for i in self.intents])
        self.safety_intents = [i for i, intent in enumerate(self.intents) if intent.safety]
        self.triggers = {
            i: [normalize(k) for k in self.intents[i].keywords if normalize(k)]
            for i in self.safety_intents
        }
        self.safety_lists = {
            s.list_name for e in self.examples if self.intents[e.intent].safety for s in e.slots
        }
        self._safety = _SafetyIndex(
            [e for e in self.examples if self.intents[e.intent].safety]
        )

    def _expand_examples(self) -> list[_Example]:
        result: list[_Example] = []
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
                        result.append(_Example(index, text, slots))
        return result

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
        queries = [text]
        substituted = slotlib.substitute(tokens, slotlib.choose(spans)) if spans else text
        if substituted != text:
            queries.append(substituted)
        example_scores = self._score(queries)
        fuzzy = np.full(len(self.intents), -1.0)
        fuzzy[self.segment_intent] = np.maximum.reduceat(example_scores, self.starts)
        intent_scores = FUZZY_WEIGHT * fuzzy + (1 - FUZZY_WEIGHT) * 100 * self.terms.scores(tokens)
        self._boost(intent_scores, set(tokens), text)
        self._mask(intent_scores, context, only)

        safety_words = slotlib.substitute(
            tokens, slotlib.choose([s for s in spans if s.list_name in self.safety_lists])
        )
        safety = self._safety_hit(tokens, tuple(safety_words.split()), intent_scores)
        if safety is not None:
            best = safety
        else:
            # Without a safety hit, a safety intent never wins on a loose resemblance.
            intent_scores[self.safety_intents] = np.minimum(intent_scores[self.safety_intents], 0)
            best = int(intent_scores.argmax())
        order = np.argsort(-intent_scores)[:4]
        alternatives = tuple(
            (self.intents[i].name, round(float(intent_scores[i]) / 100, 3))
            for i in order if intent_scores[i] > 0
        )
        score = float(intent_scores[best]) / 100
        if safety is not None:
            score = max(score, self._safety.last_score / 100)
        elif score < self.settings.threshold or self.intents[best].out_of_scope:
            in_scope = [s for name, s in alternatives if not self.pack.intents[name].out_of_scope]
            return Match(text, None, round(max(in_scope[:1] or [0.0]), 3), {}, alternatives)
        runner_up = next((s for name, s in alternatives if name != self.intents[best].name), 0.0)
        ambiguous = safety is None and runner_up >= self.settings.threshold and (
            score - runner_up < self.settings.margin
        )
        example = self._best_example(best, example_scores)
        slots = self._fill_slots(best, example, spans)
        return Match(
            text, self.intents[best].name, round(min(score, 1.0), 3), slots, alternatives,
            ambiguous, example.text,
        )

    def _spans(self, tokens: tuple[str, ...]) -> list[slotlib.Span]:
        spans = self.values.spans(tokens)
        for finder in self.builtins.values():
            spans.extend(finder(tokens))
        return spans

    def _score(self, queries: list[str]) -> np.ndarray:
        """Per-example similarity 0..100 (the best over the query variants)."""
        matrix: np.ndarray = process.cdist(queries, self.texts, scorer=fuzz.ratio,
                                           dtype=np.float32)
        result: np.ndarray = matrix.max(axis=0) if len(queries) > 1 else matrix[0]
        return result

    def _boost(self, scores: np.ndarray, words: set[str], text: str) -> None:
        boost = self.settings.keyword_boost * 100
        padded = f" {text} "
        for index, keywords in enumerate(self.keywords):
            hits = sum(1 for k in keywords if k in words or (" " in k and f" {k} " in padded))
            if hits and scores[index] > 0:
                scores[index] += boost * min(hits, 2) / 1.5 if hits > 1 else boost

    def _mask(self, scores: np.ndarray, context: str | None, only: Collection[str] | None) -> None:
        for index, intent in enumerate(self.intents):
            if (intent.context is not None and intent.context != context) or (
                only is not None and intent.name not in only
            ):
                scores[index] = -1.0

    def _safety_hit(
        self, tokens: tuple[str, ...], substituted: tuple[str, ...], scores: np.ndarray
    ) -> int | None:
        """Index of the safety intent that must win, or None.

        Safety wins when a trigger word of a safety intent is said, when some stretch of the
        utterance is close to a safety example, or when the whole utterance is.
        """
        cutoff = self.settings.safety_threshold * 100
        padded = " " + " ".join(tokens) + " "
        for index in self.safety_intents:
            if scores[index] >= 0 and any(f" {t} " in padded for t in self.triggers[index]):
                self._safety.last_score = 100.0
                return index
        for words in {tokens, substituted}:
            hit = self._safety.best(words, cutoff)
            if hit is not None and scores[hit] >= 0:
                return hit
        best = int(scores.argmax())
        if self.intents[best].safety and scores[best] >= cutoff:
            self._safety.last_score = float(scores[best])
            return best
        return None

    def _best_example(self, intent: int, scores: np.ndarray) -> _Example:
        start, end = self.segments[intent]
        return self.examples[start + int(scores[start:end].argmax())]

    def _fill_slots(
        self, intent_index: int, example: _Example, spans: list[slotlib.Span]
    ) -> dict[str, str]:
        """Slot name -> value, using only the lists this intent's examples use."""
        intent = self.intents[intent_index]
        slot_lists = intent.slot_lists()
        if not slot_lists or not spans:
            return {}
        wanted = set(slot_lists.values())
        chosen = slotlib.choose([s for s in spans if s.list_name in wanted])
        order = [s.name for s in example.slots]
        order += [name for name in slot_lists if name not in order]
        result: dict[str, str] = {}
        used: set[int] = set()
        for name in order:
            list_name = slot_lists.get(name) or next(
                (s.list_name for s in example.slots if s.name == name), None
            )
            for position, span in enumerate(chosen):
                if position not in used and span.list_name == list_name and name not in result:
                    result[name] = span.value
                    used.add(position)
        return result


class _SafetyIndex:
    """Safety examples, compared word by word with every stretch of the utterance.

    Stretches are as long as the example or one word longer (a word inserted); a shorter one
    would let "i am terrified of" match "i am terrified of him".

    Words are compared as stems ("hurts", "hurting" -> "hurt") but otherwise exactly: a
    character-level comparison would confuse "my partner keeps breaking" with "my partner keeps
    beating me", or "blaming myself" with "harming myself".
    """

    def __init__(self, examples: list[_Example]) -> None:
        self.examples = examples
        self.ids: dict[str, int] = {}
        self.by_length: dict[int, tuple[list[list[int]], list[int]]] = {}
        for example in examples:
            words = self._encode(example.text.split(), grow=True)
            texts, owners = self.by_length.setdefault(len(words), ([], []))
            texts.append(words)
            owners.append(example.intent)
        self.last_score = 0.0

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
        self.last_score = 0.0
        best_owner: int | None = None
        encoded = self._encode(tokens)
        if not any(t >= 0 for t in encoded):
            return None
        for length, (texts, owners) in self.by_length.items():
            windows = [
                encoded[i : i + n]
                for n in (length,) if n <= SAFETY_MAX_WINDOW
                for i in range(0, max(len(encoded) - n + 1, 0))
            ]
            if not windows:
                continue
            matrix = process.cdist(
                windows, texts, scorer=fuzz.ratio, score_cutoff=cutoff, dtype=np.float32
            )
            flat = int(matrix.argmax())
            score = float(matrix.flat[flat])
            if score >= cutoff and score > self.last_score:
                self.last_score = score
                best_owner = owners[flat % len(texts)]
        return best_owner
