"""Noise costs no more than speech: long recordings of noise, and of speech, through
`trust-assistant ask --wav` with the default recognisers (issue 13).

    .venv/bin/python bench/noise_cost.py [--minutes 10]

Writes pink, white and brown noise (and, for comparison, the same length of espeak-ng speech:
one request repeated with pauses) to a temporary folder, times one `ask --wav --json` process
per file (start-up included) and prints seconds and the ratio to the recording's length. The
target: 10 minutes of noise in under a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from assistant.audio.wavio import write_wav

ROOT = Path(__file__).resolve().parent.parent
RATE = 16000
TARGET_S_PER_10_MIN = 60.0


def noise(kind: str, seconds: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(int(seconds * RATE))
    if kind == "white":
        shaped = white
    else:
        spectrum = np.fft.rfft(white)
        freqs = np.arange(len(spectrum), dtype=np.float64)
        freqs[0] = 1.0
        shaped = np.fft.irfft(spectrum / (np.sqrt(freqs) if kind == "pink" else freqs),
                              len(white))
    return 0.1 * shaped / (np.sqrt(np.mean(shaped**2)) or 1.0)


def speech(seconds: float, folder: Path) -> np.ndarray:
    one = folder / "one.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "165", "-w", str(one),
                    "how do I rebuild trust after I lied to my partner"], check=True)
    with wave.open(str(one)) as w:
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
        rate = w.getframerate()
    import soxr

    request = soxr.resample(raw / 32768.0, rate, RATE)
    gap = np.zeros(int(2.0 * RATE))
    block = np.concatenate([request, gap])
    return np.tile(block, int(seconds * RATE / len(block)) + 1)[: int(seconds * RATE)]


def write(path: Path, samples: np.ndarray) -> Path:
    """``samples`` (floats, full scale 1) as a 16 kHz 16-bit WAV file."""
    return write_wav(path, (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes(), RATE)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args(argv)
    seconds = args.minutes * 60
    with tempfile.TemporaryDirectory(prefix="noise-cost-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "TRUST_ASSISTANT_CONFIG_DIR": str(folder / "config"),
               "TRUST_ASSISTANT_DATA_DIR": str(folder / "data")}
        files = {kind: write(folder / f"{kind}.wav", noise(kind, seconds))
                 for kind in ("pink", "white", "brown")}
        files["speech"] = write(folder / "speech.wav", speech(seconds, folder))
        print(f"{args.minutes:g} minutes of audio per file, one `ask --wav --json` each "
              "(start-up included)")
        print(f"  {'audio':8s} {'seconds':>8s} {'x real time':>12s}  heard")
        for kind, path in files.items():
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "assistant", "ask", "--wav", str(path),
                                   "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                                  timeout=3600)
            took = time.perf_counter() - started
            heard = json.loads(done.stdout.splitlines()[-1])["text"] if done.stdout else "?"
            print(f"  {kind:8s} {took:8.1f} {took / seconds:12.3f}  {heard[:50]!r}")
        target = TARGET_S_PER_10_MIN * args.minutes / 10
        print(f"  target for noise: under {target:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
