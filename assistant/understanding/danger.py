"""A second, meaning-based judge of danger, beside the safety patterns of the intent pack.

The pack's safety patterns catch danger said in the words they were written for; people also
say it in their own ("I keep a bag packed by the door in case I need to run"). The probe is a
small neural network (one hidden layer, several trained ones averaged) on the sentence
encoder's vectors (:mod:`.encoder`), trained by ``bench/train_danger_probe.py`` on safety
statements and on everyday talk that uses danger words, and shipped as ``danger_probe.json``
(thresholds) and ``danger_probe.npz`` (weights). It scores each sentence of a message; the
highest score counts. Above :attr:`DangerProbe.sure` the message gets the safety reply, above
:attr:`DangerProbe.unsure` the safety check-in ("Are you safe right now?"). Below
:attr:`DangerProbe.clear` it is sure the message is not about danger, and a safety pattern that
matched it ("my boss will kill me if this is late") gets the check-in, not the safety reply.
"""

from __future__ import annotations

import functools
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..base import config
from . import encoder as encoderlib

PROBE_FILE = "danger_probe.json"
WEIGHTS_FILE = "danger_probe.npz"
WINDOW = 32
"""Sentences longer than this many words are scored in overlapping windows of this size."""
MAX_PIECES = 64
"""A very long message is scored on its first and last pieces only (bounded time); the safety
patterns still read all of it."""
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\s+(?:and then|but|because|also)\s+")


@dataclass(frozen=True)
class Verdict:
    """How much a message sounds like danger, and which part of it does most."""

    score: float
    """Probability (0..1) that the most dangerous-sounding part is about danger."""
    part: str


def pieces(text: str) -> list[str]:
    """The parts of ``text`` scored on their own: the whole (when short), each sentence, and
    windows of long sentences."""
    words = text.split()
    result = [" ".join(words)] if len(words) <= WINDOW else []
    for sentence in _SENTENCE_END.split(text):
        tokens = sentence.split()
        if not tokens:
            continue
        step = WINDOW // 2
        for start in range(0, max(len(tokens) - step, 1), step):
            result.append(" ".join(tokens[start : start + WINDOW]))
    result = list(dict.fromkeys(result))
    half = MAX_PIECES // 2
    return result if len(result) <= MAX_PIECES else result[:half] + result[-half:]


class DangerProbe:
    """Scores messages for danger. Build once; scoring takes a few milliseconds a sentence."""

    def __init__(self, encoder: encoderlib.SentenceEncoder, probe: dict[str, object],
                 weights: Mapping[str, np.ndarray]) -> None:
        self.encoder = encoder
        self.sure = float(probe["sure"])  # type: ignore[arg-type]
        self.unsure = float(probe["unsure"])  # type: ignore[arg-type]
        self.clear = float(probe.get("clear", 0.0))  # type: ignore[arg-type]
        """Below this score the probe is sure a message is not about danger: a safety pattern
        that matched it gets the check-in question instead of the safety reply (0: never)."""
        try:
            self.hidden_w = np.asarray(weights["hidden_w"], dtype=np.float32)
            self.hidden_b = np.asarray(weights["hidden_b"], dtype=np.float32)
            self.out_w = np.asarray(weights["out_w"], dtype=np.float32)
            self.out_b = float(weights["out_b"])
        except KeyError as missing:
            raise ValueError(f"{WEIGHTS_FILE}: no array {missing}") from None
        width = self.hidden_b.shape[0] if self.hidden_b.ndim == 1 else -1
        if (self.hidden_w.shape != (encoderlib.WIDTH, width)
                or self.out_w.shape != (width,)):
            raise ValueError(f"{WEIGHTS_FILE}: hidden weights {self.hidden_w.shape}, output "
                             f"{self.out_w.shape}; expected ({encoderlib.WIDTH}, H) and (H,)")
        self.verdict = functools.lru_cache(maxsize=256)(self._verdict)

    def clearly_not(self, text: str) -> bool:
        """Whether the probe is sure ``text`` is not about danger: scored below
        :attr:`clear`, and short enough to have been read whole (in a long message the
        windows dilute a few words of danger among many others)."""
        return len(text.split()) <= WINDOW and self.verdict(text).score < self.clear

    def _verdict(self, text: str) -> Verdict:
        best = Verdict(0.0, "")
        for part in pieces(text):
            hidden = np.maximum(self.encoder.embed(part) @ self.hidden_w + self.hidden_b, 0)
            logit = float(hidden @ self.out_w) + self.out_b
            score = 1 / (1 + np.exp(-logit))
            if score > best.score:
                best = Verdict(round(float(score), 3), part)
        return best


def load_probe(cache: Path | None = None) -> DangerProbe | None:
    """The shipped probe over the sentence encoder (unpacked into ``cache``, by default the
    assistant's cache directory), or None when the encoder's weights are not installed: the
    safety patterns then work alone."""
    if not encoderlib.available():
        return None
    package = resources.files(__package__ or "assistant.understanding")
    probe = json.loads(package.joinpath(PROBE_FILE).read_text())
    try:
        with package.joinpath(WEIGHTS_FILE).open("rb") as file, np.load(file) as weights:
            arrays = {name: weights[name] for name in weights.files}
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise ValueError(f"{WEIGHTS_FILE} is damaged ({exc}); reinstall the package") from None
    return DangerProbe(encoderlib.SentenceEncoder(cache or config.cache_dir()), probe, arrays)
