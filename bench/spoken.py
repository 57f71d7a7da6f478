"""Spoken requests: intent accuracy of the whole voice path (espeak-ng speech -> recogniser ->
matcher), biased recogniser beside the unbiased one.

    .venv/bin/python bench/spoken.py [--quick] [--verbose]
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from tempfile import TemporaryDirectory

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from speech import synthesize  # noqa: E402

from assistant.app.runtime import load_pack  # noqa: E402
from assistant.audio.wavio import read_wav  # noqa: E402
from assistant.base.config import Settings  # noqa: E402
from assistant.pack.intents import IntentPack  # noqa: E402
from assistant.speech.stt import make_recognizer  # noqa: E402
from assistant.understanding.matcher import Matcher  # noqa: E402

VOICES = [("en-us", 150), ("en-us", 175), ("en-us+f3", 150), ("en-us+f3", 175)]


def rows_trust() -> list[tuple[str, str, dict[str, str]]]:
    data = yaml.safe_load((ROOT / "tests/data/spoken_requests.yaml").read_text())
    return [(r[0], r[1], {k: str(v) for k, v in (r[2] if len(r) > 2 else {}).items()})
            for r in data]


def rows_coffee() -> list[tuple[str, str, dict[str, str]]]:
    data = yaml.safe_load((ROOT / "tests/data/coffee_paraphrases.yaml").read_text())
    return [(r["text"], r["intent"], {k: str(v) for k, v in (r.get("slots") or {}).items()})
            for r in data]


def evaluate(pack: IntentPack, rows: list[tuple[str, str, dict[str, str]]], voices: list[
        tuple[str, int]], directory: Path, verbose: bool) -> dict[str, float]:
    matcher = Matcher(pack)
    settings = Settings()
    biased = make_recognizer(settings.stt, pack)
    plain = make_recognizer(replace(settings.stt, bias=False), None)
    results: dict[str, list[bool]] = {"biased": [], "unbiased": [], "typed": []}
    for index, (text, intent, slots) in enumerate(rows):
        typed = matcher.match(text)
        for voice, rate in voices:
            pcm = read_wav(synthesize(text, directory / f"{index}-{voice}-{rate}.wav", voice,
                                      rate, silence_s=0.5))
            for name, recognizer in (("biased", biased), ("unbiased", plain)):
                heard = recognizer.transcribe(pcm).text
                got = matcher.match(heard)
                ok = got.intent == intent and (not slots or got.slots == slots)
                results[name].append(ok)
                if verbose and not ok and name == "biased":
                    print(f"  {voice} {rate}: {text!r} -> {heard!r} -> {got.intent} {got.slots}")
        results["typed"].append(typed.intent == intent)
    return {k: sum(v) / len(v) for k, v in results.items()}


def main(argv: list[str]) -> None:
    quick, verbose = "--quick" in argv, "--verbose" in argv
    voices = VOICES[::2] if quick else VOICES
    with TemporaryDirectory() as tmp:
        trust = rows_trust()
        figures = evaluate(load_pack(Settings()), trust[:30] if quick else trust, voices,
                           Path(tmp), verbose)
        print(f"trust pack, {len(trust)} spoken requests x {len(voices)} voices/rates: "
              f"biased {figures['biased']:.1%}, unbiased {figures['unbiased']:.1%} "
              f"(typed text {figures['typed']:.1%})")
        coffee = rows_coffee()
        pack = IntentPack.from_dirs([ROOT / "tests/data/coffee"], "en")
        figures = evaluate(pack, coffee[:30] if quick else coffee, voices, Path(tmp), verbose)
        print(f"coffee pack, intent and every slot right, {len(coffee)} x {len(voices)}: "
              f"biased {figures['biased']:.1%}, unbiased {figures['unbiased']:.1%}")


if __name__ == "__main__":
    main(sys.argv[1:])
