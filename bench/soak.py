"""A long session, faster than real time: hours of speech, silence and noise through the voice
loop (issue 13). `make soak` runs two hours; it is not part of `make test`.

    .venv/bin/python bench/soak.py [--minutes 120] [--seed 1] [--json FILE]

The loop is the real one (`Assistant.voice_loop`: segmenter, PocketSphinx with the pack's
phrase model, Whisper's second reading, the dialog with its journal and reminders), in
conversation mode ("always": every utterance is a request). Only the sound card is replaced:
the microphone serves a generated stream as fast as it is read, and replies are not played
(playback cannot go faster than real time; the voices are measured by bench/tts_voice.py).

The stream repeats, in a seeded random order: a request (a held-out sentence, spoken by
espeak-ng in one of several voices and rates), silence (3-20 s: more than a reflection answer's
end silence, 2.5 s), and now and then noise (white, pink or brown, 3-30 s, at several levels,
then 3 s of silence). Printed: requests answered (a turn while the request was being heard or
within 4 s after it; after a reflection prompt the request is the answer, kept about 7.5 s
later, once the answer's end silence and the wait after it have passed; a request said before
then is more of the same answer), turns heard in noise or silence, the loop's speed against real
time, and the process's memory (RSS), open files and threads from the end of the warm-up (the
first tenth, at least 5 minutes) to the end. Pass: no crash, every request answered, RSS growth
under 10 %, no files or threads leaked.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from no_words import coloured

from assistant.audio.wavio import read_wav
from assistant.dialog.manager import Action

ROOT = Path(__file__).resolve().parent.parent
RATE = 16000
BLOCK = 1600
"""100 ms of 16 kHz mono, as the real microphone delivers it."""
VOICES = [("en-us", 165), ("en-gb", 150), ("en-us+f2", 175), ("en-us+m3", 145),
          ("en-gb-x-rp", 160), ("en-us+f4", 185)]
ANSWER_WINDOW_S = 4.0
MAX_RSS_GROWTH = 0.10
MIN_GAP_S = 3.0
"""Shortest silence after a request or a noise (seconds): more than a reflection answer's end
silence (2.5 s), the longest pause within an utterance. (An answer stays open 5 s more for the
person to go on; a request said then is scored as part of the answer.)"""


@dataclass
class Stream:
    """The generated session: 16-bit mono PCM and where each request lies in it (seconds)."""

    pcm: bytes
    requests: list[tuple[float, float, str]]
    noise_s: float = 0.0
    silence_s: float = 0.0


def _espeak(text: str, voice: str, rate: int, directory: Path) -> bytes:
    path = directory / "say.wav"
    subprocess.run([shutil.which("espeak-ng") or "espeak-ng", "-v", voice, "-s", str(rate),
                    "-w", str(path), text], check=True, capture_output=True)
    return read_wav(path, RATE)


def _noise(rng: np.random.Generator, seconds: float) -> bytes:
    n = int(seconds * RATE)
    kind = rng.choice(["white", "pink", "brown"])
    signal = rng.standard_normal(n) if kind == "white" else coloured(
        rng, n, 0.5 if kind == "pink" else 1.0)
    level = float(rng.choice([300.0, 1000.0, 3000.0]))  # RMS of 16-bit samples
    return np.clip(signal * level, -32768, 32767).astype("<i2").tobytes()


def build_stream(minutes: float, seed: int, directory: Path) -> Stream:
    """Requests, silences and noise until ``minutes`` of audio; spoken requests are cached by
    (sentence, voice) so a long stream costs a few hundred syntheses."""
    rng = np.random.default_rng(seed)
    data = yaml.safe_load((ROOT / "bench" / "data" / "heldout3.yaml").read_text())
    sentences = [text for text, intent in data["paraphrases"] if intent is not None]
    spoken: dict[tuple[str, int], bytes] = {}
    parts: list[bytes] = []
    requests: list[tuple[float, float, str]] = []
    total = 0
    stream = Stream(b"", [])
    limit = int(minutes * 60 * RATE)
    while total < limit:
        index = int(rng.integers(len(sentences)))
        voice = int(rng.integers(len(VOICES)))
        key = (sentences[index], voice)
        if key not in spoken:
            spoken[key] = _espeak(sentences[index], *VOICES[voice], directory)
        speech = spoken[key]
        requests.append((total / RATE, (total + len(speech) // 2) / RATE, sentences[index]))
        parts.append(speech)
        total += len(speech) // 2
        gap = float(rng.uniform(MIN_GAP_S, 20.0))
        parts.append(bytes(int(gap * RATE) * 2))
        total += int(gap * RATE)
        stream.silence_s += gap
        if rng.random() < 0.3:
            seconds = float(rng.uniform(3.0, 30.0))
            after = int(MIN_GAP_S * RATE)
            parts += [_noise(rng, seconds), bytes(after * 2)]  # noise, then silence
            total += int(seconds * RATE) + after
            stream.noise_s += seconds
            stream.silence_s += MIN_GAP_S
    stream.pcm = b"".join(parts)
    stream.requests = requests
    return stream


class StreamMicrophone:
    """Serves the stream as fast as it is read; then tells the loop to stop."""

    sample_rate = RATE

    def __init__(self, pcm: bytes, on_end: Any) -> None:
        self.pcm = pcm
        self.position = 0
        self.on_end = on_end

    @property
    def seconds(self) -> float:
        return self.position / 2 / RATE

    def read(self, timeout: float | None = None) -> bytes | None:
        if self.position >= len(self.pcm):
            self.on_end()
            return bytes(BLOCK * 2)
        block = self.pcm[self.position:self.position + BLOCK * 2].ljust(BLOCK * 2, b"\0")
        self.position += BLOCK * 2
        return block

    def flush(self) -> int:
        return 0


@dataclass
class Recorder:
    """The loop's events: when (in stream seconds) each turn was emitted."""

    mic: StreamMicrophone | None = None
    turns: list[tuple[float, str | None]] = field(default_factory=list)
    awaiting: list[bool] = field(default_factory=list)
    """Per turn: whether it asked for a reflection answer (what is said next is the answer)."""
    notices: list[str] = field(default_factory=list)

    def status(self, text: str) -> None:
        pass

    def notice(self, text: str) -> None:
        self.notices.append(text)

    def turn(self, turn: Any) -> None:
        self.turns.append((self.mic.seconds if self.mic else 0.0, turn.intent))
        self.awaiting.append(Action.AWAIT_ANSWER in turn.actions)

    def reply(self, text: str) -> None:
        pass


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as home:
        # the person's files go to a throw-away place: the journal is not touched
        os.environ["TRUST_ASSISTANT_DATA_DIR"] = str(Path(home) / "data")
        os.environ["TRUST_ASSISTANT_CONFIG_DIR"] = str(Path(home) / "config")
        from assistant.app.assistant import Assistant
        from assistant.base.config import Settings

        started = time.monotonic()
        stream = build_stream(args.minutes, args.seed, Path(home))
        audio_s = len(stream.pcm) / 2 / RATE
        print(f"stream: {audio_s / 60:.1f} min ({len(stream.requests)} requests, "
              f"{stream.noise_s / 60:.1f} min of noise, {stream.silence_s / 60:.1f} min of "
              f"silence), made in {time.monotonic() - started:.0f} s", flush=True)

        recorder = Recorder()
        settings = Settings()
        answer_silence_s = settings.listen.answer_silence_s
        app = Assistant(settings, recorder).load()
        done = threading.Event()
        mic = StreamMicrophone(stream.pcm, done.set)
        recorder.mic = mic
        loop = app.voice_loop(mic, wake="always", speak=False)  # type: ignore[arg-type]

        warm_up_s = max(audio_s / 10, min(300.0, audio_s / 2))
        samples: list[tuple[float, float, int, int]] = []  # (stream s, RSS MB, fds, threads)
        watching = threading.Event()

        def watch() -> None:
            while not watching.wait(1.0):
                samples.append((mic.seconds, rss_mb(), open_files(), threading.active_count()))
                if done.is_set():
                    loop.stop()

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        began = time.monotonic()
        crashed = None
        sessions = 0
        try:
            while not done.is_set():  # "goodbye" ends a session; the service starts another
                sessions += 1
                loop.run()
        except Exception as exc:  # a crash is what this bench looks for
            crashed = f"{type(exc).__name__}: {exc}"
        wall_s = time.monotonic() - began
        watching.set()
        watcher.join()
        samples.append((mic.seconds, rss_mb(), open_files(), threading.active_count()))

    answered = 0
    unanswered = []
    heard_at = [t for t, _ in recorder.turns]
    used: set[int] = set()
    for number, (start, end, text) in enumerate(stream.requests):
        # After a reflection prompt the next request is the answer, kept once the person has
        # been silent for the answer's end silence and the wait after it (3 x 2.5 s): what
        # is said before then is more of the same answer, kept with it.
        before = [i for i, t in enumerate(heard_at) if t < start]
        window, said_until = ANSWER_WINDOW_S, end
        if before and recorder.awaiting[before[-1]]:
            open_for = 3 * answer_silence_s
            for later_start, later_end, _ in stream.requests[number + 1:]:
                if later_start - said_until > open_for:
                    break
                said_until = later_end  # said while the answer was still open: part of it
            window += open_for
        hits = [i for i, t in enumerate(heard_at) if start <= t <= said_until + window]
        if hits:
            answered += 1
            used.update(hits)
        else:
            after = [(round(t - end, 1), intent) for t, intent in recorder.turns
                     if end < t <= end + 30][:2]
            unanswered.append(f"{text}  [{start:.0f}-{end:.0f} s; next turns: {after}]")
    extra = len(heard_at) - len(used)
    after = [s for s in samples if s[0] >= warm_up_s] or samples[-1:]
    base, last = after[0], samples[-1]
    growth = (last[1] - base[1]) / base[1] if base[1] else 0.0
    peak = max(s[1] for s in samples)
    figures = {
        "audio_min": round(audio_s / 60, 1), "wall_min": round(wall_s / 60, 1),
        "speed_x_real_time": round(audio_s / wall_s, 2), "requests": len(stream.requests),
        "answered": answered, "turns_outside_requests": extra,
        "rss_after_warm_up_mb": round(base[1], 1), "rss_end_mb": round(last[1], 1),
        "rss_peak_mb": round(peak, 1), "rss_growth": round(growth, 4),
        "fds_after_warm_up": base[2], "fds_end": last[2],
        "threads_after_warm_up": base[3], "threads_end": last[3],
        "max_rss_kernel_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "crash": crashed, "sessions": sessions, "notices": recorder.notices[:10],
        "rss_samples": [(round(s[0], 1), round(s[1], 1)) for s in samples[:: max(1, len(
            samples) // 200)]],
    }
    print(f"{answered}/{len(stream.requests)} requests answered "
          f"({100 * answered / max(len(stream.requests), 1):.1f} %); {extra} turns heard in "
          f"noise or silence")
    for text in unanswered[:10]:
        print(f"  not answered: {text}")
    print(f"{audio_s / 60:.1f} min of audio in {wall_s / 60:.1f} min: "
          f"{audio_s / wall_s:.1f} x real time")
    print(f"RSS: {base[1]:.0f} MB after the warm-up ({warm_up_s / 60:.1f} min), {last[1]:.0f} MB "
          f"at the end ({100 * growth:+.1f} %; limit +{100 * MAX_RSS_GROWTH:.0f} %), peak "
          f"{peak:.0f} MB")
    print(f"open files: {base[2]} -> {last[2]}; threads: {base[3]} -> {last[3]}; sessions "
          f"(a goodbye ends one, the next request starts another): {sessions}")
    if crashed:
        print(f"CRASH: {crashed}")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=1))
    ok = (crashed is None and answered == len(stream.requests) and growth < MAX_RSS_GROWTH
          and last[2] <= base[2] and last[3] <= base[3])
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
