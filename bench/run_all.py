"""`make bench`: every benchmark, one after the other, figures printed as they come and
written to docs/measurements.md (the one place for current figures; see also
docs/design-notes.md for the measurements behind design choices).

    .venv/bin/python bench/run_all.py [--quick] [--out FILE]

Speed and memory targets are checked here (on a shared, noisy machine), not in the tests.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from datetime import date
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


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    memory = next((int(line.split()[1]) // 1024 for line in
                   Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    return (f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores, "
            f"{memory / 1024:.1f} GB, Python {platform.python_version()}")


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    out = Path(argv[argv.index("--out") + 1]) if "--out" in argv else (
        ROOT.parent / "docs" / "measurements.md")
    failed = 0
    sections = []
    began = time.monotonic()
    for title, script, args in BENCHES:
        print(f"\n== {title} ({script})", flush=True)
        started = time.monotonic()
        extra = ["--quick"] if quick and script == "matcher.py" else []
        command = [sys.executable, str(ROOT / script), *args, *extra]
        lines = []
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                print(line, end="", flush=True)
                lines.append(line.rstrip("\n"))
        failed += proc.returncode != 0
        took = time.monotonic() - started
        print(f"   ({took:.0f} s)", flush=True)
        shown = " ".join(["bench/" + script, *args, *extra])
        sections += [f"## {title}", "", f"`.venv/bin/python {shown}` ({took:.0f} s"
                     f"{', exit status ' + str(proc.returncode) if proc.returncode else ''})",
                     "", "```", *lines, "```", ""]
    header = ["# Measurements", "",
              f"Written by `make bench` on {date.today().isoformat()} in "
              f"{(time.monotonic() - began) / 60:.0f} min, on {machine()} (a shared machine: "
              "timings move by 20 % or so from run to run). Do not edit: run `make bench`.", ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(header + sections))
    print(f"\nwrote {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
