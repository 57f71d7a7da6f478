"""Biasing material for the recognisers, built from an intent pack.

What people are likely to say is known in advance: the pack's example templates, its slot
lists, the built-in ``{time}`` and ``{number}`` lists, the topics a clarifying question offers
("Do you mean X or Y?"), a few system answers ("yes", "the first one") and extra phrases such
as the wake phrase. :class:`Vocabulary` holds them as template trees, never fully expanded,
and turns them into

- sentences for an n-gram language model (:meth:`Vocabulary.sentences`, :func:`build_arpa`):
  what PocketSphinx uses in ``command`` mode, mixed with common English words so off-script
  speech is not forced onto a known phrase;
- a compact JSGF grammar (:meth:`Vocabulary.jsgf`): the examples as a prefix tree, alternatives
  and optional words mapped straight to JSGF, slot lists as referenced rules (PocketSphinx's
  strict ``grammar`` search);
- a phrase list for a Vosk grammar (:meth:`Vocabulary.phrases`).

*Prefixes* (the wake phrase) are said before any request: "hey coach, how do I start". Given
as a mere extra phrase, "hey coach" is one sentence among thousands and the recogniser hears
"do you coach how do i start"; as a prefix it is put before a share of the sentences
(:data:`PREFIX_EVERY`) and said alone (:data:`PREFIX_ALONE_SHARE`), before the whole utterance
in the grammar, and before the Vosk phrases as far as the grammar size allows.

:func:`missing_words` lists the words a recogniser does not know; :func:`report` says what was
done about them, in lines ``intents check`` prints.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, cycle
from typing import TYPE_CHECKING

from ...base.lang import en
from ...pack import templates
from ...pack.templates import Alternative, Node, Sequence, SlotRef, Word

if TYPE_CHECKING:
    from ...pack.intents import IntentPack


MAX_PHRASES = 20000
"""Most phrases :meth:`Vocabulary.phrases` returns (a Vosk grammar gets slow past that)."""
MAX_FULL_EXPANSION = 400
"""Examples that expand (slot values included) to more sentences than this go to Vosk as
pieces: the words between slots, and each slot's values."""
SENTENCES_PER_EXAMPLE = 200
"""Sentences :meth:`Vocabulary.sentences` draws from one example (all, when it has fewer)."""
PREFIX_EVERY = 2
"""Every this many sentences of an example (its first included) get a copy with each prefix
in front: with 2 the language model expects a prefix at the start of one utterance in three."""
PREFIX_ALONE_SHARE = 0.1
"""Copies of a prefix said alone, as a share of the sentences it prefixes: someone who says
just "hey coach" and waits is heard saying just that."""

OPENERS = en.OPENERS
CLOSERS = en.CLOSERS
FILLER_EVERY = 4
"""Every this many sentences of an example, one gets a copy after an opener and another a copy
before a closer (cycling through :data:`OPENERS` and :data:`CLOSERS`)."""

CONTRACTIONS = en.SPOKEN_CONTRACTIONS
"""Word pairs people contract when they speak (English). Intent examples are written, and
matched, in the long form ("i am done"), but "I'm" is one syllable, not two: each sentence of
the language model that has such a pair is there once more, contracted, so the recogniser
expects both ("i'm done"; the matcher's normalisation expands it again)."""

_NOT_WORD = re.compile(r"[^\w'\-.]+")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_ORDINAL = re.compile(r"^(\d+)(st|nd|rd|th)$")


def _fillers() -> Callable[[list[list[str]]], list[list[str]]]:
    """A function that gives, for the sentences of one example, copies of some of them with an
    opener before or a closer after; openers and closers cycle across examples."""
    openers = cycle([o.split() for o in OPENERS])
    closers = cycle([c.split() for c in CLOSERS])

    def copies(own: list[list[str]]) -> list[list[str]]:
        extra = [[*next(openers), *s] for s in own[::FILLER_EVERY]]
        extra += [[*s, *next(closers)] for s in own[FILLER_EVERY // 2 :: FILLER_EVERY]]
        return extra

    return copies


def contracted(sentence: list[str]) -> list[str] | None:
    """``sentence`` with its :data:`CONTRACTIONS` made, or None when it has none."""
    out: list[str] = []
    index = 0
    while index < len(sentence):
        short = CONTRACTIONS.get((sentence[index], sentence[index + 1])) \
            if index + 1 < len(sentence) else None
        out.append(short or sentence[index])
        index += 2 if short else 1
    return out if len(out) < len(sentence) else None


@dataclass(frozen=True)
class Vocabulary:
    """What a recogniser should expect: example trees and slot lists (spoken value trees)."""

    examples: tuple[Sequence, ...]
    lists: dict[str, tuple[Sequence, ...]]
    language: str = "en"
    prefixes: tuple[Sequence, ...] = ()
    """Phrases said before any utterance, or alone (the wake phrase); each is an example too."""

    @classmethod
    def from_pack(
        cls,
        pack: IntentPack | None,
        extra_phrases: Iterable[str] = (),
        prefixes: Iterable[str] = (),
    ) -> Vocabulary:
        """Everything ``pack`` (may be None), the dialog and ``extra_phrases`` make sayable,
        each optionally after one of ``prefixes`` (which may also be said alone)."""
        prefixes = tuple(prefixes)
        language = pack.language if pack is not None else "en"
        trees: list[Sequence] = []
        lists: dict[str, tuple[Sequence, ...]] = {}
        if pack is not None:
            for intent in pack.intents.values():
                if intent.name in pack.implicit:
                    continue
                trees.extend(example.tree for example in intent.examples)
                if _speaks(intent.topic, intent.name, language):
                    trees.append(_phrase_tree(intent.topic))
            lists = {name: tuple(v.spoken for v in slot_list.values)
                     for name, slot_list in pack.lists.items()}
        system = en.ANSWER_PHRASES if language.startswith("en") else ()
        trees.extend(_phrase_tree(p) for p in (*system, *extra_phrases, *prefixes))
        for name, sources in en.SPOKEN_LISTS.items():
            lists.setdefault(name, tuple(templates.parse(s) for s in sources))
        examples = tuple(_dedupe(_spoken_tree(t) for t in trees))
        spoken_lists = {k: tuple(_spoken_tree(v) for v in vs) for k, vs in lists.items()}
        spoken_prefixes = tuple(_dedupe(_spoken_tree(_phrase_tree(p)) for p in prefixes))
        return cls(tuple(e for e in examples if e.items), spoken_lists, language,
                   tuple(p for p in spoken_prefixes if p.items))

    def prefix_texts(self) -> list[str]:
        """The prefixes as words: ["hey coach"]."""
        return [" ".join(self._prefix_words(p)) for p in self.prefixes]

    # ------------------------------------------------------------------ words

    def used_lists(self) -> list[str]:
        """Names of the lists the examples refer to, directly or through other lists."""
        seen: list[str] = []
        pending = [s.list_name for t in self.examples for s in templates.slots_of(t)]
        while pending:
            name = pending.pop(0)
            if name in seen or name not in self.lists:
                continue
            seen.append(name)
            pending.extend(s.list_name for t in self.lists[name] for s in templates.slots_of(t))
        return seen

    def words(self) -> set[str]:
        """Every word the examples and the lists they use can produce."""
        trees = [*self.examples, *(t for n in self.used_lists() for t in self.lists[n])]
        return {w for tree in trees for w in templates.words_of(tree)}

    # ------------------------------------------------------------------ n-gram sentences

    def sentences(
        self, per_example: int = SENTENCES_PER_EXAMPLE, prefix_every: int | None = None
    ) -> list[list[str]]:
        """Sentences for a language model: every expansion of an example (slot values
        included) when it has at most ``per_example``, else that many random ones; the same
        every time. With prefixes, every ``prefix_every``-th (default :data:`PREFIX_EVERY`)
        sentence of an example, the first included, is there once more after each prefix, and
        each prefix is also there alone (:data:`PREFIX_ALONE_SHARE`). In English, some
        sentences come again after an opener ("um") or before a closer ("please"):
        :data:`FILLER_EVERY`, and every sentence with a pair people contract comes again
        contracted (:data:`CONTRACTIONS`)."""
        every = max(1, prefix_every or PREFIX_EVERY)
        counts: dict[tuple[str, int], int | None] = {}
        result: list[list[str]] = []
        fillers = _fillers() if self.language.startswith("en") else None
        prefixes = [self._prefix_words(p) for p in self.prefixes]
        for tree in self.examples:
            if prefixes and tree in self.prefixes:
                continue
            size = self._count(tree, 0, counts)
            substituted = self._substitute(tree, 0) if size is not None and size <= per_example \
                else None
            if substituted is not None:
                own = [[str(t) for t in tokens] for tokens in templates.expand(substituted)]
            else:
                rng = random.Random(_emit(tree))
                own = [_sample(tree, rng, self.lists) for _ in range(per_example)]
            own = [s for s in own if s]
            result.extend(own)
            if fillers is not None:
                result.extend(fillers(own))
                result.extend(c for c in map(contracted, own) if c is not None)
            for prefix in prefixes:
                result.extend([*prefix, *s] for s in own[::every])
        for prefix in prefixes:
            prefixed = sum(1 for s in result if s[: len(prefix)] == prefix)
            result.extend([list(prefix)] * max(1, round(prefixed * PREFIX_ALONE_SHARE)))
        return result

    def _prefix_words(self, prefix: Sequence) -> list[str]:
        return [str(t) for t in next(iter(templates.expand(prefix)))]

    # ------------------------------------------------------------------ JSGF

    def jsgf(self) -> str:
        """A JSGF grammar with public rule ``<utterance>``: the examples as a prefix tree,
        optionally after a prefix (rule ``<prefix>``), each used slot list as a rule
        ``<list_NAME>`` they refer to."""
        body = _emit_trie(_build_trie(self.examples))
        lines = ["#JSGF V1.0;", "grammar assistant;"]
        if self.prefixes:
            lines.append(f"public <utterance> = [ <prefix> ] {body};")
            lines.append(f"<prefix> = {' | '.join(_emit(p) for p in self.prefixes)};")
        else:
            lines.append(f"public <utterance> = {body};")
        for name in self.used_lists():
            body = " | ".join(_emit(tree) for tree in self.lists[name])
            lines.append(f"<{_rule(name)}> = {body};")
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------------ Vosk phrases

    def phrases(
        self, known: Callable[[str], bool] | None = None, limit: int = MAX_PHRASES
    ) -> list[str]:
        """Phrases for a Vosk grammar: whole sentences when an example expands to few,
        otherwise its pieces (the words between slots, and the slots' values). With prefixes,
        the first phrase of each example and every :data:`PREFIX_EVERY`-th one after it come
        once more after each prefix, as long as there is room.

        With ``known``, phrases are cut at words it rejects, so the model's grammar keeps
        the parts it can recognise (Vosk would silently drop the words itself).
        """
        prefixes = self.prefix_texts()
        result = {part: None for prefix in prefixes for part in _known_parts(prefix, known)}
        for tree in self.examples:
            if prefixes and tree in self.prefixes:
                continue
            for index, phrase in enumerate(self._example_phrases(tree)):
                said = [phrase]
                if index % PREFIX_EVERY == 0:
                    said += [f"{prefix} {phrase}" for prefix in prefixes]
                for text in said:
                    for part in _known_parts(text, known):
                        result.setdefault(part, None)
                if len(result) >= limit:
                    return list(result)[:limit]
        return list(result)

    def _example_phrases(self, tree: Sequence) -> Iterator[str]:
        size = self._count(tree, 0, {})
        substituted = self._substitute(tree, 0) if size is not None and size <= (
            MAX_FULL_EXPANSION) else None
        if substituted is not None:
            for tokens in templates.expand(substituted, limit=MAX_FULL_EXPANSION):
                yield " ".join(str(t) for t in tokens)
            return
        for tokens in templates.expand(tree, limit=10**6):
            yield from self._pieces(tokens)

    def _pieces(self, tokens: tuple[templates.Token, ...]) -> Iterator[str]:
        run: list[str] = []
        for token in tokens:
            if isinstance(token, SlotRef):
                if run:
                    yield " ".join(run)
                run = []
                for value in self.lists.get(token.list_name, ()):
                    for value_tokens in templates.expand(value, limit=10**6):
                        yield from self._pieces(value_tokens)
            else:
                run.append(token)
        if run:
            yield " ".join(run)

    def _count(self, node: Node, depth: int, memo: dict[tuple[str, int], int | None]
               ) -> int | None:
        """``templates.count(self._substitute(node, depth))`` without substituting (None
        when that is None); ``memo`` keeps the counts of slot lists."""
        if isinstance(node, Word):
            return 1
        if isinstance(node, SlotRef):
            key = (node.list_name, depth)
            if key not in memo:
                values = self.lists.get(node.list_name, ())
                sizes = [self._count(v, depth + 1, memo) for v in values] if depth < 4 else []
                memo[key] = None if not sizes or None in sizes else sum(
                    s for s in sizes if s is not None)
            return memo[key]
        total = 1 if isinstance(node, Sequence) else int(node.optional)
        for child in node.items if isinstance(node, Sequence) else node.options:
            size = self._count(child, depth, memo)
            if size is None:
                return None
            total = total * size if isinstance(node, Sequence) else total + size
        return total

    def _substitute(self, node: Node, depth: int) -> Node | None:
        """``node`` with every slot replaced by its list's values (None when too deep)."""
        if isinstance(node, Word):
            return node
        if isinstance(node, SlotRef):
            values = self.lists.get(node.list_name, ())
            done = [self._substitute(v, depth + 1) for v in values] if depth < 4 else [None]
            if not done or any(v is None for v in done):
                return None
            return Alternative(tuple(_as_sequence(v) for v in done if v is not None))
        children = node.items if isinstance(node, Sequence) else node.options
        parts = [self._substitute(child, depth) for child in children]
        if any(p is None for p in parts):
            return None
        if isinstance(node, Sequence):
            return Sequence(tuple(p for p in parts if p is not None))
        return Alternative(tuple(_as_sequence(p) for p in parts if p is not None), node.optional)

    def list_phrases(self, name: str, limit: int = 5000) -> list[str]:
        """Spoken forms of list ``name`` (helper lists expanded), at most ``limit``:
        ``list_phrases("time")`` -> ["one", "one am", ..., "half past eight", ...]."""
        result: list[str] = []
        for tree in self.lists.get(name, ()):
            substituted = self._substitute(tree, depth=1)
            if substituted is None:
                continue
            for tokens in templates.expand(substituted, limit=10**7):
                result.append(" ".join(str(t) for t in tokens))
                if len(result) >= limit:
                    return result
        return result


def _known_parts(phrase: str, known: Callable[[str], bool] | None) -> list[str]:
    if known is None:
        return [phrase]
    parts: list[list[str]] = [[]]
    for word in phrase.split():
        if known(word):
            parts[-1].append(word)
        elif parts[-1]:
            parts.append([])
    return [" ".join(p) for p in parts if p]


# ---------------------------------------------------------------------- n-gram model


def _sample(node: Node, rng: random.Random, lists: dict[str, tuple[Sequence, ...]],
            depth: int = 0) -> list[str]:
    """One random sentence of ``node``, slots filled with random values of their lists
    (built-in lists weighted by :data:`~assistant.base.lang.en.SPOKEN_LIST_WEIGHTS`, others
    uniformly)."""
    words: list[str] = []
    _sample_into(node, rng, lists, depth, words)
    return words


def _sample_into(node: Node, rng: random.Random, lists: dict[str, tuple[Sequence, ...]],
                 depth: int, words: list[str]) -> None:
    if isinstance(node, Word):
        words.append(node.text)
    elif isinstance(node, Sequence):
        for item in node.items:
            _sample_into(item, rng, lists, depth, words)
    elif isinstance(node, SlotRef):
        values = lists.get(node.list_name, ())
        if not values or depth >= 5:
            return
        weights = en.SPOKEN_LIST_WEIGHTS.get(node.list_name)
        if weights is not None and len(weights) == len(values):
            value = rng.choices(values, weights)[0]
        else:
            value = rng.choice(values)
        _sample_into(value, rng, lists, depth + 1, words)
    else:
        pick = rng.randrange(len(node.options) + (1 if node.optional else 0))
        if pick < len(node.options):
            _sample_into(node.options[pick], rng, lists, depth, words)


Gram = tuple[str, ...]


def build_arpa(
    sentences: Iterable[list[str]],
    general: dict[str, float] | None = None,
    general_weight: float = 0.0,
    order: int = 3,
    discount: float = 0.5,
) -> str:
    """An ARPA back-off language model of ``sentences`` (interpolated absolute discounting).

    ``general`` maps extra words to probabilities (0..1, e.g. their frequency in English);
    they share ``general_weight`` (0..1) of the unigram mass, so words outside the sentences
    stay possible: an open path for off-script speech.
    """
    padded = [["<s>", *sentence, "</s>"] for sentence in sentences]
    counts: list[dict[Gram, float]] = [{}]
    for n in range(1, order + 1):
        grams = chain.from_iterable(
            zip(*(words[i:] for i in range(n)), strict=False) for words in padded)
        counts.append(dict(Counter(grams)))
    del padded
    counts[1].pop(("<s>",), None)
    probs: list[dict[Gram, float]] = [{} for _ in range(order + 1)]
    backoffs: list[dict[Gram, float]] = [{} for _ in range(order + 1)]
    probs[1] = _unigrams(counts[1], general or {}, general_weight)
    for n in range(2, order + 1):
        probs[n], backoffs[n - 1] = _higher_order(counts[n], probs, backoffs, discount)
    return _format_arpa(probs, backoffs, order)


def _unigrams(counts: dict[Gram, float], general: dict[str, float],
              weight: float) -> dict[Gram, float]:
    total = sum(counts.values()) or 1.0
    general_total = sum(general.values()) or 1.0
    mix = weight if general else 0.0
    result = {gram: (1 - mix) * c / total for gram, c in counts.items()}
    for word, p in general.items():
        result[(word,)] = result.get((word,), 0.0) + mix * p / general_total
    result[("<s>",)] = 0.0
    return result


def _lower(gram: Gram, probs: list[dict[Gram, float]], backoffs: list[dict[Gram, float]]) -> float:
    """P(last word | the rest of ``gram``), as an ARPA reader computes it."""
    n = len(gram)
    if gram in probs[n]:
        return probs[n][gram]
    if n == 1:
        return 0.0
    return backoffs[n - 1].get(gram[:-1], 1.0) * _lower(gram[1:], probs, backoffs)


def _higher_order(
    counts: dict[Gram, float],
    probs: list[dict[Gram, float]],
    backoffs: list[dict[Gram, float]],
    discount: float,
) -> tuple[dict[Gram, float], dict[Gram, float]]:
    """Probabilities of one order and the back-off weights of their contexts."""
    by_context: dict[Gram, list[tuple[Gram, float]]] = {}
    for gram, c in counts.items():
        by_context.setdefault(gram[:-1], []).append((gram, c))
    result: dict[Gram, float] = {}
    gammas: dict[Gram, float] = {}
    for context, followers in by_context.items():
        total = sum(c for _, c in followers)
        gamma = discount * len(followers) / total
        for gram, c in followers:
            lower = _lower(gram[1:], probs, backoffs)
            result[gram] = max(c - discount, 0.0) / total + gamma * lower
        gammas[context] = gamma
    return result, gammas


def _format_arpa(probs: list[dict[Gram, float]], backoffs: list[dict[Gram, float]],
                 order: int) -> str:
    lines = ["\\data\\", *(f"ngram {n}={len(probs[n])}" for n in range(1, order + 1))]
    for n in range(1, order + 1):
        lines += ["", f"\\{n}-grams:"]
        for gram, p in probs[n].items():
            line = f"{_log10(p):.5f} {' '.join(gram)}"
            if n < order:
                line += f" {_log10(backoffs[n].get(gram, 1.0)):.5f}"
            lines.append(line)
    lines += ["", "\\end\\", ""]
    return "\n".join(lines)


def _log10(p: float) -> float:
    return math.log10(p) if p > 0 else -99.0


# ---------------------------------------------------------------------- prefix tree, JSGF


@dataclass
class _Trie:
    end: bool = False
    children: dict[Node, _Trie] = field(default_factory=dict)


def _flatten(tree: Sequence) -> list[Node]:
    items: list[Node] = []
    for item in tree.items:
        items.extend(_flatten(item) if isinstance(item, Sequence) else [item])
    return items


def _build_trie(trees: Iterable[Sequence]) -> _Trie:
    root = _Trie()
    for tree in trees:
        node = root
        for item in _flatten(tree):
            node = node.children.setdefault(item, _Trie())
        node.end = True
    return root


def _emit_trie(trie: _Trie) -> str:
    branches = []
    for item, child in trie.children.items():
        text = _emit(item)
        if child.children:
            tail = _emit_trie(child)
            text += f" [ {tail} ]" if child.end else f" {tail}"
        branches.append(text)
    return branches[0] if len(branches) == 1 else "( " + " | ".join(branches) + " )"


def _emit(node: Node) -> str:
    if isinstance(node, Word):
        return node.text
    if isinstance(node, SlotRef):
        return f"<{_rule(node.list_name)}>"
    if isinstance(node, Sequence):
        return " ".join(_emit(item) for item in node.items) or "<NULL>"
    body = " | ".join(_emit(option) for option in node.options)
    return f"[ {body} ]" if node.optional else f"( {body} )"


def _rule(list_name: str) -> str:
    return f"list_{list_name}"  # pack lists never start with "_", built-in helpers do


# ---------------------------------------------------------------------- spoken words


def _speaks(topic: str, name: str, language: str) -> bool:
    """Whether a topic is something people say back ("Do you mean X or Y?"): a topic the pack
    wrote, or the default one (the intent name) in an English pack."""
    return language.startswith("en") or topic != name.replace("_", " ")


def _phrase_tree(text: str) -> Sequence:
    return Sequence(tuple(Word(w) for w in text.split()))


def _spoken_tree(node: Sequence) -> Sequence:
    """``node`` with every word as a recogniser's dictionary has it (digits spelt out)."""
    items: list[Node] = []
    for item in node.items:
        if isinstance(item, Word):
            items.extend(Word(w) for w in spoken_words(item.text))
        elif isinstance(item, Sequence):
            items.append(_spoken_tree(item))
        elif isinstance(item, Alternative):
            options = tuple(o for o in (_spoken_tree(o) for o in item.options) if o.items)
            if options:
                items.append(Alternative(options, item.optional))
        else:
            items.append(item)
    return Sequence(tuple(items))


def spoken_words(token: str) -> list[str]:
    """How ``token`` of a template is said: lower case, digits, ordinals and clock times spelt
    out (``"21:30"`` -> ``["twenty", "one", "thirty"]``, ``"1st"`` -> ``["first"]``),
    hyphenated words split, other punctuation dropped."""
    token = token.lower()
    clock = _CLOCK.match(token)
    if clock:
        hour, minute = int(clock.group(1)), int(clock.group(2))
        end = number_words(minute) if minute else ["hundred" if hour > 12 else "o'clock"]
        return [*number_words(hour), *end]
    ordinal = _ORDINAL.match(token)
    if ordinal and int(ordinal.group(1)) < 10000:
        return ordinal_words(int(ordinal.group(1)))
    if token.isdigit() and len(token) <= 4:
        return number_words(int(token))
    words = (_NOT_WORD.sub("", part).strip("'.") for part in token.split("-"))
    return [w for w in words if w]


number_words = en.number_words
ordinal_words = en.ordinal_words


def _dedupe(trees: Iterable[Sequence]) -> Iterator[Sequence]:
    seen: set[Sequence] = set()
    for tree in trees:
        if tree not in seen:
            seen.add(tree)
            yield tree


def _as_sequence(node: Node) -> Sequence:
    return node if isinstance(node, Sequence) else Sequence((node,))


# ---------------------------------------------------------------------- missing words
