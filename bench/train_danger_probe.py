"""Train the meaning-based danger probe (assistant/danger_probe.json).

Logistic regression on the sentence encoder's vectors. Safety statements are the positives;
everyday talk with danger words (near-misses), ordinary requests and sentences of the pack's
ordinary intents are the negatives. Trained only on the sets named in TRAIN: the sets kept for
evaluation (safety_blind3.yaml, safety_blind4.yaml, heldout3.yaml) are never read here.

    .venv/bin/python bench/train_danger_probe.py [--sure 0.95 --unsure 0.9]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.encoder import SentenceEncoder  # noqa: E402
from assistant.runtime import load_pack  # noqa: E402
from assistant.stt import cache_dir  # noqa: E402
from assistant.templates import SlotRef, expand  # noqa: E402

DATA = ROOT / "bench" / "data"
TRAIN = ("safety_eval.yaml", "safety_heldout.yaml", "heldout.yaml", "heldout2.yaml",
         "safety_train.yaml")
ORDINARY_WEIGHT = 0.3
"""Weight of an ordinary request against a near-miss: near-misses draw the line."""
L2 = 1e-5


def _texts(entries: Sequence[object] | None) -> list[str]:
    return [e[0] if isinstance(e, list) else str(e) for e in entries or []]


def training_sentences() -> tuple[list[str], list[str], list[str]]:
    """(safety statements, near-misses, ordinary requests)."""
    danger: list[str] = []
    near: list[str] = []
    ordinary: list[str] = []
    for name in TRAIN:
        path = DATA / name
        if not path.exists():
            continue
        data = yaml.safe_load(path.read_text())
        danger += _texts(data.get("safety"))
        near += _texts(data.get("near_misses") or data.get("not_safety"))
        ordinary += _texts(data.get("paraphrases")) + _texts(data.get("out_of_scope"))
    return danger, near, ordinary + pack_sentences()


def pack_sentences(per_example: int = 3) -> list[str]:
    """A few sentences of each example of the pack's ordinary intents, slots filled in."""
    pack = load_pack(Settings())
    rng = random.Random(0)
    result = []
    for intent in pack.intents.values():
        if intent.safety:
            continue
        for example in intent.examples:
            sentences = []
            for count, tokens in enumerate(expand(example.tree)):
                if count >= 40:
                    break
                words = []
                for token in tokens:
                    if isinstance(token, SlotRef):
                        phrases = (pack.lists[token.list_name].phrases()
                                   if token.list_name in pack.lists else [])
                        words.append(rng.choice(phrases)[0] if phrases else "three")
                    else:
                        words.append(str(token))
                sentences.append(" ".join(words))
            result += rng.sample(sentences, min(per_example, len(sentences)))
    return result


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray, steps: int = 20000) -> np.ndarray:
    """Weighted, class-balanced logistic regression by gradient descent with momentum."""
    xb = np.c_[x, np.ones(len(x))]
    w = weight * y / (weight * y).sum() + weight * (1 - y) / (weight * (1 - y)).sum()
    w /= w.sum()
    theta = np.zeros(xb.shape[1])
    velocity = np.zeros_like(theta)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-xb @ theta))
        grad = xb.T @ ((p - y) * w) + L2 * np.r_[theta[:-1], 0]
        velocity = 0.9 * velocity + grad
        theta -= 2.0 * velocity
    return theta


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sure", type=float, default=0.95)
    parser.add_argument("--unsure", type=float, default=0.9)
    parser.add_argument("--out", type=Path, default=ROOT / "assistant" / "danger_probe.json")
    args = parser.parse_args(argv)
    danger, near, ordinary = training_sentences()
    encoder = SentenceEncoder(cache_dir())
    vectors = np.array([encoder.embed(s) for s in danger + near + ordinary])
    y = np.r_[np.ones(len(danger)), np.zeros(len(near) + len(ordinary))]
    weight = np.r_[np.ones(len(danger) + len(near)), np.full(len(ordinary), ORDINARY_WEIGHT)]
    theta = fit(vectors, y, weight)
    p = 1 / (1 + np.exp(-(vectors @ theta[:-1] + theta[-1])))
    print(f"trained on {len(danger)} safety statements, {len(near)} near-misses, "
          f"{len(ordinary)} ordinary requests")
    caught = np.mean(p[: len(danger)] >= args.sure)
    alarms = np.mean(p[len(danger) : len(danger) + len(near)] >= args.unsure)
    print(f"on its own training sentences: safety >= sure {caught:.3f}, "
          f"near-misses >= unsure {alarms:.3f}")
    args.out.write_text(json.dumps({
        "about": "Logistic regression on all-MiniLM-L6-v2 sentence vectors; made by "
                 "bench/train_danger_probe.py from " + ", ".join(TRAIN) + " and the pack.",
        "sure": args.sure, "unsure": args.unsure,
        "bias": round(float(theta[-1]), 6),
        "weights": [round(float(v), 6) for v in theta[:-1]],
    }, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
