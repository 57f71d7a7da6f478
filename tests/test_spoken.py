"""Spoken requests through ``ask --wav``: espeak-ng speech in two voices at two rates, the
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
VOICES = [("en-us+m3", 150), ("en-us+f2", 175)]
"""Two espeak-ng voices (a male and a female variant of US English) at two rates (wpm); the
benchmark (``bench/spoken.py``) runs more voices, rates and noise."""

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


def phrase_model_only(tmp_path: Path, bias: bool = True) -> tuple[str, str]:
    """Flags for the phrase model alone, without Whisper's second reading."""
    config = tmp_path / f"phrase-only-{bias}.yaml"
    config.write_text(f"stt: {{second_pass: false, bias: {str(bias).lower()}}}\n")
    return "--config", str(config)


def test_spoken_trust_requests(tmp_path: Path) -> None:
    rows = trust_rows()
    assert len(rows) >= 60
    spoken = speak_all(rows, tmp_path, VOICES)
    subset = spoken[:: len(VOICES)]  # the unbiased figure on one voice and rate, for speed
    with ThreadPoolExecutor(2) as pool:
        biased_job = pool.submit(ask_wavs, [p for p, _ in spoken], *phrase_model_only(tmp_path))
        unbiased_job = pool.submit(ask_wavs, [p for p, _ in subset],
                                   *phrase_model_only(tmp_path, bias=False))
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
    answers = ask_wavs([p for p, _ in spoken], *phrase_model_only(tmp_path),
                       "--no-default-intents", "--intents", coffee)
    right = accuracy(answers, spoken, slots=True)
    print(f"\nspoken coffee orders, intent and every slot right: {right:.1%} of {len(spoken)}")
    assert right >= 0.90


def test_two_readings_hear_more_than_the_phrase_model(tmp_path: Path) -> None:
    """The default engine (phrase model, then Whisper's second reading of each request) on
    the voice and rate the phrase model hears worst: the dialog acts on the better reading."""
    hard = [("en-us+m3", 175)]
    spoken = speak_all(trust_rows()[::2], tmp_path, hard)  # half of each set, for speed
    coffee = speak_all(coffee_rows()[::2], tmp_path / "coffee", hard) if (
        tmp_path / "coffee").mkdir() is None else []
    with ThreadPoolExecutor(2) as pool:
        both_job = pool.submit(ask_wavs, [p for p, _ in spoken])
        coffee_job = pool.submit(ask_wavs, [p for p, _ in coffee], "--no-default-intents",
                                 "--intents", str(DATA / "coffee"))
        both = accuracy(both_job.result(), spoken, slots=False)
        orders = accuracy(coffee_job.result(), coffee, slots=True)
    print(f"\ntwo readings: trust requests {both:.1%} of {len(spoken)}, coffee orders with "
          f"every slot {orders:.1%} of {len(coffee)}")
    assert both >= 0.90
    # 35 of 39 on one host, 34 of 39 on another (an AMD EPYC): Whisper's int8 kernels differ
    # by CPU, and one order in 39 is 2.6 points
    assert orders >= 0.85
