"""Train the meaning-based danger probe (assistant/understanding/danger_probe.json and .npz).

A one-hidden-layer network on the sentence encoder's vectors; several are trained from
different seeds and averaged (their logits), which is again one network with a wider hidden
layer. Safety statements are the positives; everyday talk with danger words (near-misses),
ordinary requests and sentences of the pack's ordinary intents are the negatives. Trained only
on the sets named in TRAIN: safety_blind3, safety_blind4 and safety_blind6 were scored at
first contact before they were added here; the sets kept for evaluation (safety_blind5.yaml,
safety_blind7.yaml, safety_blind8.yaml, safety_blind9.yaml, heldout3.yaml) are never read
here.

    .venv/bin/python bench/train_danger_probe.py [--sure 0.9 --unsure 0.88 --clear 0.05]
    (about 6-10 minutes)
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

from assistant.app.runtime import load_pack  # noqa: E402
from assistant.base.config import Settings  # noqa: E402
from assistant.pack.templates import SlotRef, expand  # noqa: E402
from assistant.speech.stt import cache_dir  # noqa: E402
from assistant.understanding.encoder import SentenceEncoder  # noqa: E402

DATA = ROOT / "bench" / "data"
TRAIN = ("safety_eval.yaml", "safety_heldout.yaml", "heldout.yaml", "heldout2.yaml",
         "safety_train.yaml", "safety_train2.yaml", "safety_train3.yaml", "safety_train4.yaml",
         "safety_blind3.yaml",
         "safety_blind4.yaml",
         "safety_blind6.yaml")
ORDINARY_WEIGHT = 0.3
"""Weight of an ordinary request against a near-miss: near-misses draw the line."""
L2 = 1e-4
HIDDEN = 64
"""Hidden units of each network."""
SEEDS = 5
"""Networks trained and averaged: one alone varies by several points of recall with its seed."""
STEPS = 3000


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


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray, seed: int,
        lr: float = 0.05) -> dict[str, np.ndarray]:
    """One network, class-balanced and weighted, trained with Adam on the whole set."""
    rng = np.random.default_rng(seed)
    w = weight * y / (weight * y).sum() + weight * (1 - y) / (weight * (1 - y)).sum()
    w /= w.sum()
    params = [rng.standard_normal((x.shape[1], HIDDEN)) * 0.1, np.zeros(HIDDEN),
              rng.standard_normal(HIDDEN) * 0.1, np.zeros(1)]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    for step in range(1, STEPS + 1):
        hidden = np.maximum(x @ params[0] + params[1], 0)
        p = 1 / (1 + np.exp(-(hidden @ params[2] + params[3][0])))
        g = (p - y) * w
        back = np.outer(g, params[2]) * (hidden > 0)
        grads = [x.T @ back + L2 * params[0], back.sum(0), hidden.T @ g + L2 * params[2],
                 np.array([g.sum()])]
        for i, grad in enumerate(grads):
            first[i] = 0.9 * first[i] + 0.1 * grad
            second[i] = 0.999 * second[i] + 0.001 * grad * grad
            params[i] = params[i] - lr * (first[i] / (1 - 0.9 ** step)) / (
                np.sqrt(second[i] / (1 - 0.999 ** step)) + 1e-8)
    return {"hidden_w": params[0], "hidden_b": params[1], "out_w": params[2],
            "out_b": params[3]}


def average(nets: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The networks as one: hidden layers side by side, the output their mean logit."""
    return {
        "hidden_w": np.concatenate([n["hidden_w"] for n in nets], axis=1).astype(np.float32),
        "hidden_b": np.concatenate([n["hidden_b"] for n in nets]).astype(np.float32),
        "out_w": (np.concatenate([n["out_w"] for n in nets]) / len(nets)).astype(np.float32),
        "out_b": np.float32(np.mean([n["out_b"][0] for n in nets])),
    }


def scores(net: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    hidden = np.maximum(x @ net["hidden_w"] + net["hidden_b"], 0)
    return 1 / (1 + np.exp(-(hidden @ net["out_w"] + net["out_b"])))


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sure", type=float, default=0.9)
    parser.add_argument("--unsure", type=float, default=0.88)
    parser.add_argument("--clear", type=float, default=0.05,
                        help="below this, a safety pattern's match gets the check-in")
    parser.add_argument("--out", type=Path,
                        default=ROOT / "assistant" / "understanding" / "danger_probe.json")
    args = parser.parse_args(argv)
    danger, near, ordinary = training_sentences()
    encoder = SentenceEncoder(cache_dir())
    vectors = np.array([encoder.embed(s) for s in danger + near + ordinary])
    y = np.r_[np.ones(len(danger)), np.zeros(len(near) + len(ordinary))]
    weight = np.r_[np.ones(len(danger) + len(near)), np.full(len(ordinary), ORDINARY_WEIGHT)]
    net = average([fit(vectors, y, weight, seed) for seed in range(SEEDS)])
    p = scores(net, vectors)
    print(f"trained on {len(danger)} safety statements, {len(near)} near-misses, "
          f"{len(ordinary)} ordinary requests")
    caught = np.mean(p[: len(danger)] >= args.sure)
    alarms = np.mean(p[len(danger) : len(danger) + len(near)] >= args.unsure)
    print(f"on its own training sentences: safety >= sure {caught:.3f}, "
          f"near-misses >= unsure {alarms:.3f}")
    args.out.write_text(json.dumps({
        "about": f"{SEEDS} one-hidden-layer networks ({HIDDEN} units) on all-MiniLM-L6-v2 "
                 "sentence vectors, averaged; weights in danger_probe.npz; made by "
                 "bench/train_danger_probe.py from " + ", ".join(TRAIN) + " and the pack.",
        "sure": args.sure, "unsure": args.unsure, "clear": args.clear,
    }, indent=1) + "\n")
    np.savez_compressed(args.out.with_suffix(".npz"), **net)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
