"""Matcher latency: the shipped pack, and generated packs of 10,000 and 100,000 examples,
beside the naive baseline (``process.extractOne`` per intent in a Python loop), same run.

    .venv/bin/python bench/matcher.py [--quick]

Prints median and p99 latency per utterance (milliseconds), the speed-up over the baseline,
how often the two agree on the intent (they score differently: the matcher adds content-word
evidence, so on the shipped pack they differ by design), and how often the matcher's trigram
shortlist gives the same intent as comparing every example.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.app.runtime import load_pack  # noqa: E402
from assistant.base.config import Settings  # noqa: E402
from assistant.base.normalize import normalize  # noqa: E402
from assistant.pack.intents import IntentPack, parse_file_text  # noqa: E402
from assistant.understanding.matcher import Matcher  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(func: Callable[[str], object], queries: list[str], repeat: int,
          forget: Callable[[], None] = lambda: None) -> list[float]:
    """Per-call latency in milliseconds over ``repeat`` passes of ``queries``; ``forget`` is
    called before each pass (so no pass gains from what an earlier one remembered)."""
    times = []
    for _ in range(repeat):
        forget()
        for query in queries:
            start = time.perf_counter()
            func(query)
            times.append((time.perf_counter() - start) * 1000)
    return times


def naive(matcher: Matcher) -> Callable[[str], str | None]:
    """The obvious implementation: extractOne over each intent's examples, in a loop."""
    per_intent: dict[str, list[str]] = {}
    for example in matcher.examples:
        per_intent.setdefault(matcher.intents[example.intent].name, []).append(example.text)

    def match(text: str) -> str | None:
        query = normalize(text)
        best, best_score = None, -1.0
        for name, examples in per_intent.items():
            found = process.extractOne(query, examples, scorer=fuzz.ratio)
            if found and found[1] > best_score:
                best, best_score = name, found[1]
        return best
    return match


def _pseudo_words(count: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    onsets = "b c d f g h j k l m n p r s t v w z br cl dr fl gr pl st tr sh ch".split()
    vowels = "a e i o u ai ea oo ou".split()
    codas = ["", "n", "r", "l", "s", "t", "nd", "st", "ck", "ng"]
    words: set[str] = set()
    while len(words) < count:
        syllables = rng.randint(1, 3)
        words.add("".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas)
                          for _ in range(syllables)))
    return sorted(words)


WORDS = _pseudo_words(600)
"""A vocabulary for generated packs (made-up words with English-like spelling)."""
VERBS = "open close find show play stop start check send read move turn set book call".split()


def generated_pack(examples: int, per_intent: int = 100, seed: int = 7) -> IntentPack:
    """A pack of ``examples`` plain sentences, ``per_intent`` per intent."""
    rng = random.Random(seed)
    intents = []
    for i in range(examples // per_intent):
        topic = rng.sample(WORDS, 3)
        sentences = set()
        while len(sentences) < per_intent:
            words = [rng.choice(VERBS), "the", *rng.sample(topic, 2), *rng.sample(WORDS, 2)]
            rng.shuffle(words[2:])
            sentences.add(" ".join(words))
        intents.append({"name": f"intent_{i}", "examples": sorted(sentences),
                        "replies": ["ok"]})
    # in files of 10,000 examples: one file of 100,000 is past the size limit of an intent file
    chunk = max(1, 10_000 // per_intent)
    return IntentPack.merge([
        parse_file_text(yaml.safe_dump({"language": "en", "intents": intents[k : k + chunk]}),
                        f"generated-{k // chunk}.yaml")
        for k in range(0, len(intents), chunk)
    ])


def queries_for(pack: IntentPack, count: int, seed: int = 11) -> list[str]:
    """Utterances close to random examples, with one word changed (like a misheard word)."""
    rng = random.Random(seed)
    intents = list(pack.intents.values())
    queries = []
    for _ in range(count):
        intent = rng.choice(intents)
        words = intent.examples[rng.randrange(len(intent.examples))].template.split()
        words[rng.randrange(len(words))] = rng.choice(WORDS)
        queries.append(" ".join(words))
    return queries


def report(name: str, pack: IntentPack, queries: list[str], repeat: int) -> None:
    start = time.perf_counter()
    matcher = Matcher(pack, Settings().matcher)
    build = time.perf_counter() - start
    ours = timed(matcher.match, queries, repeat, forget=matcher.values.forget)
    baseline_fn = naive(matcher)
    baseline = timed(baseline_fn, queries, 1)
    agree = sum(matcher.match(q).intent == baseline_fn(q) for q in queries) / len(queries)
    exhaustive = Matcher(pack, Settings().matcher)
    exhaustive.trigrams = None  # compare with every example
    same = sum(
        matcher.match(q).intent == exhaustive.match(q).intent for q in queries) / len(queries)
    ours_median, base_median = statistics.median(ours), statistics.median(baseline)
    print(f"{name}: {len(matcher.examples):,} examples, {len(pack.intents)} intents, "
          f"built in {build:.2f} s")
    print(f"  matcher   median {ours_median:7.3f} ms   p99 {percentile(ours, 0.99):7.3f} ms")
    print(f"  baseline  median {base_median:7.3f} ms   p99 {percentile(baseline, 0.99):7.3f} ms")
    print(f"  speed-up  {base_median / ours_median:5.1f}x   same intent as baseline "
          f"{agree:.1%}, as an exhaustive comparison {same:.1%}")


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    shipped = load_pack(Settings())
    data = yaml.safe_load((ROOT / "tests/data/paraphrases.yaml").read_text())
    texts = [t for t, _ in data["paraphrases"]] + data["out_of_scope"]
    report("shipped pack", shipped, texts, repeat=2 if quick else 5)
    for size in (10_000, 100_000):
        pack = generated_pack(size)
        report(f"generated pack {size:,}", pack, queries_for(pack, 60 if quick else 200), 1)


if __name__ == "__main__":
    main(sys.argv[1:])
