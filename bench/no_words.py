"""No words out of silence: 200 clips of silence, noise, tones, music-like sound, clicks, coughs,
breathing and reversed-speech babble through `trust-assistant ask --wav` (issue 11).

    .venv/bin/python bench/no_words.py [--engine E] [--verbose]

Every clip is made here from a seed (nothing is downloaded): 20 kinds x 10 variants, each of a
different level and length (0.5 to 6 s). Two figures: clips that became a request (an intent
matched; target: none in >= 99 % of clips) and, stricter, clips in which any word was heard
(the assistant then says it did not catch that). Reversed-speech babble is espeak-ng speech played
backwards and overlaid, four voices at a time: speech-like sound with no words in it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import wave
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assistant.audio.wavio import write_wav

ROOT = Path(__file__).resolve().parent.parent
RATE = 16000
VARIANTS = 10
TARGET = 0.99
SPEECH_LIKE = ("reversed-speech babble", "babble under pink noise")
"""Kinds that are speech to every voice detector, although no word is in them."""
Maker = Callable[[np.random.Generator, int], np.ndarray]


def coloured(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n)
    spectrum[1:] /= freqs[1:] ** exponent
    spectrum[0] = 0
    out = np.fft.irfft(spectrum, n)
    return out / (out.std() or 1.0)


def envelope_bursts(rng: np.random.Generator, n: int, count: int, length_s: tuple[float, float],
                    source: np.ndarray) -> np.ndarray:
    out = np.zeros(n)
    for _ in range(count):
        size = int(rng.uniform(*length_s) * RATE)
        start = int(rng.integers(0, max(n - size, 1)))
        window = np.hanning(size) ** 2
        out[start : start + size] += source[start : start + size] * window[: n - start]
    return out


def tones(rng: np.random.Generator, n: int, chord: bool) -> np.ndarray:
    """Music-like sound: notes with harmonics and attack/decay, one at a time or in chords."""
    t = np.arange(n) / RATE
    out = np.zeros(n)
    note = int(RATE * rng.uniform(0.2, 0.5))
    for start in range(0, n, note):
        end = min(start + note, n)
        freqs = 220 * 2 ** (rng.integers(0, 24, size=3 if chord else 1) / 12)
        decay = np.exp(-np.arange(end - start) / (0.3 * RATE))
        for f in freqs:
            for harmonic, weight in ((1, 1.0), (2, 0.5), (3, 0.25)):
                out[start:end] += weight * np.sin(2 * np.pi * f * harmonic * t[start:end]) * decay
    return out / (np.abs(out).max() or 1.0)


def babble(rng: np.random.Generator, n: int, voices: list[np.ndarray]) -> np.ndarray:
    out = np.zeros(n)
    for _ in range(4):
        clip = voices[int(rng.integers(len(voices)))][::-1]
        start = int(rng.integers(0, max(len(clip) - n, 1)))
        part = clip[start : start + n]
        out[: len(part)] += part
    return out / (np.abs(out).max() or 1.0)


def reversed_speech(folder: Path) -> list[np.ndarray]:
    sentences = ["how do I rebuild trust after I lied to my partner",
                 "remind me to reflect every evening at nine",
                 "what makes an apology sincere and how do I say sorry",
                 "tell me more about keeping small promises every day"]
    voices = ["en-us", "en-us+f2", "en+m3", "en-us+m3"]
    clips = []
    for i, (text, voice) in enumerate(zip(sentences, voices, strict=True)):
        path = folder / f"babble{i}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "170", "-w", str(path), text],
                       check=True)
        with wave.open(str(path)) as w:
            raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2") / 32768.0
            rate = w.getframerate()
        import soxr

        clips.append(np.tile(soxr.resample(raw, rate, RATE), 3))
    return clips


def kinds(voices: list[np.ndarray]) -> dict[str, tuple[Maker, float]]:
    """Kind -> (maker of unit-level samples, level in dBFS of the loudest variant)."""
    return {
        "digital silence": (lambda r, n: np.zeros(n), 0.0),
        "quiet hiss": (lambda r, n: r.standard_normal(n), -55.0),
        "white noise": (lambda r, n: r.standard_normal(n), -20.0),
        "loud white noise": (lambda r, n: r.standard_normal(n), -10.0),
        "pink noise": (lambda r, n: coloured(r, n, 0.5), -20.0),
        "brown noise": (lambda r, n: coloured(r, n, 1.0), -18.0),
        "fan hum": (lambda r, n: np.sin(2 * np.pi * 50 * np.arange(n) / RATE)
                    + 0.3 * coloured(r, n, 0.5), -20.0),
        "mains hum": (lambda r, n: np.sin(2 * np.pi * 60 * np.arange(n) / RATE)
                      + 0.5 * np.sin(2 * np.pi * 180 * np.arange(n) / RATE), -15.0),
        "steady tone": (lambda r, n: np.sin(2 * np.pi * r.uniform(200, 2000) * np.arange(n)
                                            / RATE), -12.0),
        "chirp": (lambda r, n: np.sin(2 * np.pi * (200 + r.uniform(100, 800) * np.arange(n)
                                                   / RATE) * np.arange(n) / RATE), -12.0),
        "beeps": (lambda r, n: envelope_bursts(r, n, 4, (0.1, 0.3), np.sin(
            2 * np.pi * 1000 * np.arange(n) / RATE)), -12.0),
        "melody": (lambda r, n: tones(r, n, chord=False), -12.0),
        "chords": (lambda r, n: tones(r, n, chord=True), -12.0),
        "clicks": (lambda r, n: envelope_bursts(r, n, 12, (0.002, 0.01),
                                                np.sign(r.standard_normal(n))), -6.0),
        "door knocks": (lambda r, n: envelope_bursts(r, n, 3, (0.03, 0.08),
                                                     coloured(r, n, 1.0)), -6.0),
        "coughs": (lambda r, n: envelope_bursts(r, n, 2, (0.2, 0.4), coloured(r, n, 0.3)), -8.0),
        "breathing": (lambda r, n: envelope_bursts(r, n, 3, (0.6, 1.2), coloured(r, n, 0.2)),
                      -30.0),
        "rain": (lambda r, n: coloured(r, n, 0.3) * (1 + 0.5 * envelope_bursts(
            r, n, 40, (0.005, 0.02), r.standard_normal(n))), -22.0),
        "reversed-speech babble": (lambda r, n: babble(r, n, voices), -15.0),
        "babble under pink noise": (lambda r, n: babble(r, n, voices) + coloured(r, n, 0.5),
                                    -18.0),
    }


def write(path: Path, samples: np.ndarray) -> Path:
    """``samples`` (floats, full scale 1) as a 16 kHz 16-bit WAV file."""
    return write_wav(path, (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes(), RATE)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", help="recogniser engine (default: the configured one)")
    parser.add_argument("--verbose", action="store_true", help="list every clip heard as words")
    parser.add_argument("--seed", type=int, default=0,
                        help="added to every clip's seed: other clips of the same kinds (0 is "
                             "the set the figures in the README were first measured on)")
    args = parser.parse_args(argv)
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed: no babble; skipped")
        return 0
    with tempfile.TemporaryDirectory(prefix="no-words-") as tmp:
        folder = Path(tmp)
        made = kinds(reversed_speech(folder))
        files: list[tuple[str, Path]] = []
        for k, (kind, (maker, top_db)) in enumerate(made.items()):
            for v in range(VARIANTS):
                rng = np.random.default_rng(args.seed + 1000 * k + v)
                n = int(rng.uniform(0.5, 6.0) * RATE)
                samples = maker(rng, n)
                rms = float(np.sqrt(np.mean(samples**2))) or 1.0
                level = 10 ** ((top_db - 3.0 * v) / 20)  # each variant 3 dB quieter
                files.append((kind, write(folder / f"{k:02d}-{v}.wav", samples / rms * level)))
        env = {**os.environ, "TRUST_ASSISTANT_CONFIG_DIR": str(folder / "config"),
               "TRUST_ASSISTANT_DATA_DIR": str(folder / "data")}
        command = [sys.executable, "-m", "assistant", "ask", "--json", "--wav",
                   *[str(p) for _, p in files]]
        if args.engine:
            command += ["--engine", args.engine]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=3600)
        turns = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        if len(turns) != len(files):
            print(f"ask --wav gave {len(turns)} answers for {len(files)} clips: {done.stderr}")
            return 1
    heard: dict[str, list[str]] = {}
    for (kind, _), turn in zip(files, turns, strict=True):
        if turn["text"] or turn["intent"]:
            heard.setdefault(kind, []).append(f"{turn['text']!r} -> {turn['intent']}")
    passed = len(files) - sum(len(v) for v in heard.values())
    requests = sum(bool(turn["intent"]) for turn in turns)
    print(f"{len(files)} clips ({len(made)} kinds x {VARIANTS}, seed {args.seed}); engine: "
          f"{args.engine or 'configured (default: auto)'}")
    for kind in made:
        wrong = heard.get(kind, [])
        print(f"  {kind:26s} {VARIANTS - len(wrong):3d}/{VARIANTS} without words"
              + (f"   e.g. {wrong[0]}" if wrong else ""))
        if args.verbose:
            for line in wrong[1:]:
                print(f"  {'':26s} {line}")
    share = 1 - requests / len(files)
    plain = [turn for (kind, _), turn in zip(files, turns, strict=True) if kind not in SPEECH_LIKE]
    plain_requests = sum(bool(turn["intent"]) for turn in plain)
    babble_clips, babble_requests = len(files) - len(plain), requests - plain_requests
    print(f"  no words heard: {passed}/{len(files)} = {passed / len(files):.1%}")
    print(f"  no request (no intent): {len(files) - requests}/{len(files)} = {share:.1%} "
          f"(target >= {TARGET:.0%}: {'ok' if share >= TARGET else 'MISSED'})")
    print(f"    of which silence, noise and music ({len(plain)} clips): "
          f"{len(plain) - plain_requests}/{len(plain)} = {1 - plain_requests / len(plain):.1%}; "
          f"speech-like babble: {babble_clips - babble_requests}/{babble_clips}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
