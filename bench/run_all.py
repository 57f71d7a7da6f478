"""`make bench`: every benchmark, one after the other, figures printed as they come.

    .venv/bin/python bench/run_all.py [--quick]

Speed and memory targets are checked here (on a shared, noisy machine), not in the tests.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent

BENCHES = [
    ("intent accuracy (paraphrase sets, slot pack)", "accuracy.py", []),
    ("matcher latency against the naive baseline", "matcher.py", []),
    ("speech recognition: load time, real-time factor, memory, wake phrase", "stt.py", []),
    ("spoken requests through the recogniser and matcher", "spoken.py", ["--quick"]),
    ("safety: typed in every dialog state, spoken clean and in noise", "safety.py", ["--quick"]),
    ("noise costs no more than speech: 10 minutes of each through ask --wav", "noise_cost.py",
     []),
    ("no words out of silence: 200 clips of noise, tones, music, babble", "no_words.py", []),
    ("text-to-speech and audio output", "tts_audio.py", ["--virtual"]),
    ("voices: first audio, real-time factor, memory, read-back WER", "tts_voice.py", []),
    ("voice loop: start-up, memory, end of speech to reply", "voice.py", []),
    ("barge-in: its own voice and a person's, through the virtual microphone", "barge_in.py",
     ["--replies", "10", "--stops", "10", "--sink", "low-latency"]),
]


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    failed = 0
    for title, script, args in BENCHES:
        print(f"\n== {title} ({script})", flush=True)
        started = time.monotonic()
        extra = ["--quick"] if quick and script == "matcher.py" else []
        result = subprocess.run([sys.executable, str(ROOT / script), *args, *extra])
        failed += result.returncode != 0
        print(f"   ({time.monotonic() - started:.0f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
