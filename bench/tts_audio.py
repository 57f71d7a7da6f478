"""Benchmark speech output: synthesis time per reply and time to first audio out.

    python bench/tts_audio.py                 # speaker: the system's default output
    python bench/tts_audio.py --virtual       # a private PulseAudio null sink (headless machines)
    python bench/tts_audio.py --n 40 --rate 200 --json

*Synthesis* is text -> 16-bit PCM, all of a reply (the configured engine: Piper when
installed, else pyttsx3 / espeak-ng; ``--engine`` to choose).
*First audio* is from the moment the reply text is known to the moment the output device asks
for the first block of it: synthesis of the first sentence + opening and starting the
stream. Each measured utterance is stopped right after it starts, so the run takes seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

REPLIES = [
    "Trust is rebuilt in small steps. Start with one promise you can keep this week, and keep it.",
    "A sincere apology names what you did, shows you understand how it hurt, and asks for "
    "nothing in return.",
    "Rebuilding trust takes time. Expect months rather than days, and let your partner set "
    "the pace.",
    "Actions count more than words. Being reliable in small things shows that you can be "
    "relied on in big ones.",
    "You cannot prove yourself in one grand gesture. Trust grows from many ordinary moments "
    "of honesty.",
    "If you were the one who was hurt, your part is to say what you need, and to notice when "
    "it is given.",
    "Both of you need to want this. Talk together about whether you are willing to try.",
    "Small lapses can be repaired by owning them quickly and simply.",
    "Repeated breaches wear trust down. Look at the pattern, not only at the latest time.",
    "Here is a reflection prompt. What is one thing your partner did this week that you "
    "could rely on?",
    "Thank you for sharing that. Take a moment to notice how it felt to say it out loud.",
    "I can help with rebuilding trust, apologies, patience and reflection. What would you like "
    "to talk about?",
    "Nothing you say leaves this machine. The journal is off unless you turn it on.",
    "Infidelity is a serious breach. Healing usually needs honesty about what happened and a "
    "lot of patience.",
    "A friend's disloyalty hurts too. You can decide how close you want to be while trust is "
    "rebuilt.",
    "Be patient with yourself and with your partner. Setbacks are part of the process.",
    "Sharing responsibility means each of you looks at your own part, without keeping score.",
    "Is this relationship worth saving? Only the two of you can answer that, and it is fine "
    "to take time.",
    "Goodbye. Take care of yourself.",
    "Okay, I will speak more slowly.",
]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary(values_s: list[float]) -> dict[str, float]:
    """Median, p95 and max of durations given in seconds, as milliseconds."""
    return {
        "median_ms": round(statistics.median(values_s) * 1000, 1),
        "p95_ms": round(percentile(values_s, 0.95) * 1000, 1),
        "max_ms": round(max(values_s) * 1000, 1),
    }


def measure_synthesis(synth: Any, replies: list[str]) -> tuple[list[float], float]:
    """Synthesis time of each reply (seconds) and the total speech produced (seconds)."""
    times, speech = [], 0.0
    synth.synthesize("Warming up.")
    for text in replies:
        start = time.perf_counter()
        audio = synth.synthesize(text)
        times.append(time.perf_counter() - start)
        speech += audio.duration_s
    return times, speech


def first_audio(synth: Any, player: Any, text: str) -> float:
    """Seconds from the reply text to the device asking for its first block."""
    started = threading.Event()
    stamp: list[float] = []

    def on_start() -> None:
        stamp.append(time.perf_counter())
        started.set()
        player.stop()

    begin = time.perf_counter()
    player.play_stream(synth.stream(text), on_start=on_start)
    if not stamp:
        raise RuntimeError("playback never started")
    return stamp[0] - begin


@contextmanager
def virtual_output() -> Iterator[None]:
    """A private PulseAudio server whose null sink is the default output (tests/vmic.py)."""
    sys.path.insert(0, str(REPO / "tests"))
    from vmic import VirtualMic  # type: ignore[import-not-found]

    with VirtualMic():
        yield


def run(args: argparse.Namespace) -> dict[str, Any]:
    from assistant.audio.devices import Player
    from assistant.base.config import TtsSettings
    from assistant.base.errors import AssistantError
    from assistant.speech.tts import make_synthesizer

    replies = (REPLIES * (args.n // len(REPLIES) + 1))[: args.n]
    t0 = time.perf_counter()
    synth = make_synthesizer(TtsSettings(engine=args.engine, voice=args.voice, rate=args.rate))
    load_s = time.perf_counter() - t0
    times, speech_s = measure_synthesis(synth, replies)
    result: dict[str, Any] = {
        "engine": synth.name, "voice": synth.voice, "rate_wpm": synth.rate, "replies": len(replies),
        "engine_load_ms": round(load_s * 1000, 1),
        "speech_per_reply_s": round(speech_s / len(replies), 2),
        "synthesis": summary(times),
        "real_time_factor": round(sum(times) / speech_s, 4),
    }
    context = virtual_output() if args.virtual else nullcontext()
    with context:
        player = Player(args.device)
        try:
            latencies = [first_audio(synth, player, text) for text in replies[: args.play]]
            result["first_audio"] = summary(latencies)
        except AssistantError as exc:
            result["first_audio"] = {"skipped": exc.format_message()}
    return result


def report(result: dict[str, Any]) -> str:
    syn = result["synthesis"]
    lines = [
        f"TTS {result['engine']} voice={result['voice'] or 'default'} {result['rate_wpm']} wpm: "
        f"{result['replies']} replies, {result['speech_per_reply_s']} s of speech each",
        f"engine load   {result['engine_load_ms']} ms (once per process)",
        f"synthesis     median {syn['median_ms']} ms, p95 {syn['p95_ms']} ms, "
        f"max {syn['max_ms']} ms (real-time factor {result['real_time_factor']})",
    ]
    first = result["first_audio"]
    if "skipped" in first:
        lines.append(f"first audio   skipped: {first['skipped']}")
    else:
        lines.append(f"first audio   median {first['median_ms']} ms, p95 {first['p95_ms']} ms, "
                     f"max {first['max_ms']} ms (synthesis + output stream start)")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="replies to synthesise (default 20)")
    parser.add_argument("--play", type=int, default=10,
                        help="replies whose time to first audio is measured (default 10)")
    parser.add_argument("--rate", type=int, default=165, help="words per minute (default 165)")
    parser.add_argument("--engine", default="auto", choices=["auto", "piper", "pyttsx3"])
    parser.add_argument("--voice", default=None, help="voice id, name or language")
    parser.add_argument("--device", default=None, help="output device: index or part of a name")
    parser.add_argument("--virtual", action="store_true",
                        help="play into a private PulseAudio null sink (needs pulseaudio)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = run(args)
    print(json.dumps(result) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
