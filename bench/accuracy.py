"""Intent accuracy on the evaluation sets: the figures issue 2 asks for.

    .venv/bin/python bench/accuracy.py [--verbose] [FILE.yaml ...]

Each FILE has `paraphrases` ([utterance, intent] pairs), `safety`, `not_safety` and
`out_of_scope` lists. Default: the test set (tests/data/paraphrases.yaml) and the held-out set
(bench/data/heldout*.yaml), plus the slot-heavy coffee pack.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.app.runtime import make_matcher  # noqa: E402
from assistant.base.config import Settings  # noqa: E402
from assistant.pack.intents import IntentPack  # noqa: E402
from assistant.understanding.matcher import Matcher  # noqa: E402


def _label(value: Any) -> Any:
    return {True: "yes", False: "no"}.get(value, value)


def evaluate(matcher: Matcher, data: dict[str, Any], verbose: bool = False) -> dict[str, float]:
    """top-1 accuracy, safety recall and false alarms, out-of-scope rejection."""
    pairs = [(text, _label(intent)) for text, intent in data["paraphrases"]]
    wrong = [(t, e, matcher.match(t)) for t, e in pairs]
    wrong = [(t, e, m) for t, e, m in wrong if m.intent != e]
    missed = [t for t in data["safety"] if matcher.match(t).intent != "safety"]
    alarms = [t for t in data["not_safety"] if matcher.match(t).intent == "safety"]
    accepted = [(t, matcher.match(t)) for t in data["out_of_scope"]]
    accepted = [(t, m) for t, m in accepted if m.intent is not None]
    if verbose:
        for text, expected, got in wrong:
            print(f"  WRONG {text!r}: expected {expected}, got {got.intent} "
                  f"({got.confidence:.2f}) {got.alternatives[:3]}")
        for text in missed:
            print(f"  MISSED SAFETY {text!r}")
        for text in alarms:
            print(f"  FALSE ALARM {text!r} ({matcher.match(text).example!r})")
        for text, got in accepted:
            print(f"  OUT OF SCOPE ACCEPTED {text!r}: {got.intent} ({got.confidence:.2f})")
    return {
        "top1": 1 - len(wrong) / len(pairs),
        "safety_recall": 1 - len(missed) / len(data["safety"]),
        "false_alarms": len(alarms) / len(data["not_safety"]),
        "oos_rejection": 1 - len(accepted) / len(data["out_of_scope"]),
        "paraphrases": len(pairs),
    }


def evaluate_slots(verbose: bool = False) -> float:
    """Share of the coffee pack's paraphrases with the right intent and every slot right."""
    pack = IntentPack.from_dirs([ROOT / "tests/data/coffee"], "en")
    matcher = Matcher(pack)
    rows = yaml.safe_load((ROOT / "tests/data/coffee_paraphrases.yaml").read_text())
    right = 0
    for row in rows:
        got = matcher.match(row["text"])
        expected = {k: str(v) for k, v in (row.get("slots") or {}).items()}
        if got.intent == row["intent"] and got.slots == expected:
            right += 1
        elif verbose:
            print(f"  SLOTS {row['text']!r}: expected {row['intent']} {expected}, "
                  f"got {got.intent} {got.slots}")
    return right / len(rows)


def main(argv: list[str]) -> None:
    verbose = "--verbose" in argv
    files = [Path(a) for a in argv if not a.startswith("--")] or [
        ROOT / "tests/data/paraphrases.yaml", *sorted((ROOT / "bench/data").glob("heldout*.yaml"))
    ]
    matcher = make_matcher(Settings())
    for path in files:
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:")
        figures = evaluate(matcher, yaml.safe_load(path.read_text()), verbose)
        print("  " + "  ".join(
            f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items()
        ))
    if not any(a for a in argv if not a.startswith("--")):
        print(f"coffee pack (intent and every slot right): {evaluate_slots(verbose):.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
