"""Spoken requests through ``ask --wav``: espeak-ng speech in two voices and two rates, the
default (biased) recogniser, and the unbiased one beside it; the shipped pack and the
slot-heavy coffee pack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from speech import synthesize

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
VOICES = [("en-us+m3", 150), ("en-us+m3", 175), ("en-us+f2", 150), ("en-us+f2", 175)]
"""Two espeak-ng voices (a male and a female variant of US English) at two rates (wpm)."""

pytestmark = pytest.mark.audio

Row = tuple[str, str, dict[str, str]]


def trust_rows() -> list[Row]:
    rows = yaml.safe_load((DATA / "spoken_requests.yaml").read_text())
    return [(r[0], r[1], {k: str(v) for k, v in (r[2] if len(r) > 2 else {}).items()})
            for r in rows]


def coffee_rows() -> list[Row]:
    rows = yaml.safe_load((DATA / "coffee_paraphrases.yaml").read_text())
    return [(r["text"], r["intent"], {k: str(v) for k, v in (r.get("slots") or {}).items()})
            for r in rows]


def speak_all(rows: list[Row], directory: Path, voices: list[tuple[str, int]]
              ) -> list[tuple[Path, Row]]:
    spoken = []
    for index, row in enumerate(rows):
        for voice, rate in voices:
            path = directory / f"{index:03d}-{voice.replace('+', '_')}-{rate}.wav"
            spoken.append((synthesize(row[0], path, voice, rate, silence_s=0.5), row))
    return spoken


def ask_wavs(files: list[Path], *flags: str) -> list[dict[str, object]]:
    """One ``ask --wav`` process for every file (the engine is loaded once)."""
    result = subprocess.run(
        [sys.executable, "-m", "assistant", *flags, "ask", "--json", "--wav",
         *map(str, files)],
        capture_output=True, cwd=ROOT, env=dict(os.environ), timeout=900,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return [json.loads(line) for line in result.stdout.decode().splitlines()]


def accuracy(answers: list[dict[str, object]], spoken: list[tuple[Path, Row]],
             slots: bool) -> float:
    assert len(answers) == len(spoken)
    right = sum(
        answer["intent"] == row[1] and (not slots or not row[2] or answer["slots"] == row[2])
        for answer, (_, row) in zip(answers, spoken, strict=True)
    )
    return right / len(spoken)


def test_spoken_trust_requests(tmp_path: Path) -> None:
    rows = trust_rows()
    assert len(rows) >= 60
    spoken = speak_all(rows, tmp_path, VOICES)
    unbiased_config = tmp_path / "unbiased.yaml"
    unbiased_config.write_text("stt: {bias: false}\n")
    subset = spoken[:: len(VOICES)]  # the unbiased figure on one voice and rate, for speed
    with ThreadPoolExecutor(2) as pool:
        biased_job = pool.submit(ask_wavs, [p for p, _ in spoken])
        unbiased_job = pool.submit(ask_wavs, [p for p, _ in subset], "--config",
                                   str(unbiased_config))
        biased = accuracy(biased_job.result(), spoken, slots=False)
        unbiased = accuracy(unbiased_job.result(), subset, slots=False)
    print(f"\nspoken trust requests: biased {biased:.1%} of {len(spoken)}, "
          f"unbiased {unbiased:.1%} of {len(subset)}")
    assert biased >= 0.85
    assert biased > unbiased


def test_spoken_coffee_orders_intent_and_every_slot(tmp_path: Path) -> None:
    rows = coffee_rows()
    assert len(rows) >= 60
    spoken = speak_all(rows, tmp_path, VOICES)
    coffee = str(DATA / "coffee")
    answers = ask_wavs([p for p, _ in spoken], "--no-default-intents", "--intents", coffee)
    right = accuracy(answers, spoken, slots=True)
    print(f"\nspoken coffee orders, intent and every slot right: {right:.1%} of {len(spoken)}")
    assert right >= 0.90
