"""Its own voice against a person's: long replies in a row, and "stop" said over a reply,
through the virtual microphone (a PulseAudio null sink whose monitor is the microphone).

    .venv/bin/python bench/barge_in.py [--replies 20] [--stops 20] [--sink low-latency|plain|both]

``listen --no-wake`` runs once per sink; requests are played into the sink one after the
other, each after the previous reply ended (the loop logs "reply: played to the end" or
"reply: cut short"). A reply counts as played to its end when nobody spoke over it and the
loop did not cut it; any turn beyond the requests is the assistant answering itself. Then,
for the stops, each request's reply is interrupted 1.5 s in by "stop" in one of three
espeak-ng voices; it counts when the reply was cut short and the turn was "stop".

The "plain" sink is the null sink without a low-latency client: it runs in 2-second blocks,
so streams start late and stutter, and the echo's delay moves while a reply plays.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from listener import Listener  # noqa: E402
from speech import synthesize  # noqa: E402
from vmic import VirtualMic  # noqa: E402

REQUESTS = [
    "how do I start rebuilding trust with my partner",
    "what makes an apology sincere",
    "how do I rebuild trust after an affair",
    "how long does it take to rebuild trust",
    "what is trust",
]
"""Requests whose replies run for 8 to 13 seconds."""
STOP_VOICES = [("en+m3", 150), ("en-us+f2", 165), ("en-gb", 140)]


def session(mic: VirtualMic) -> Listener:
    """``listen --no-wake`` on ``mic``, ready."""
    listener = Listener(mic, "--no-wake")
    listener.wait_ready()
    return listener


def reply_number(listener: Listener, index: int, timeout: float = 60) -> bool:
    """Wait until the loop has finished (or cut) its ``index``-th reply."""
    try:
        listener.wait_for("reply: ", timeout, count=index)
    except AssertionError:
        return False
    return True


def finish(listener: Listener) -> list[dict[str, object]]:
    listener.proc.send_signal(signal.SIGINT)
    return listener.finish(timeout=60)[1]


def replies_in_a_row(mic: VirtualMic, wavs: list[Path], gap_s: float) -> tuple[int, int, int]:
    """(played to the end, cut short, extra turns) for ``wavs`` said one after the other."""
    listener = session(mic)
    for index, wav in enumerate(wavs, 1):
        mic.play(wav)
        if not reply_number(listener, index):
            print(f"  request {index}: no reply", flush=True)
        time.sleep(gap_s)
    turns = finish(listener)
    whole = listener.count("reply: played to the end")
    cut = listener.count("reply: cut short")
    return whole, cut, max(len(turns) - len(wavs), 0)


def stops(mic: VirtualMic, wavs: list[Path], stop_wavs: list[Path]) -> tuple[int, int]:
    """(tries where "stop" cut the reply short and was the turn, tries)."""
    listener = session(mic)
    for index, (wav, stop) in enumerate(zip(wavs, stop_wavs, strict=True), 1):
        mic.play(wav)
        try:
            listener.wait_for("started speaking", 30, count=index)
        except AssertionError:
            print(f"  request {index}: no reply", flush=True)
        time.sleep(1.5)
        mic.play(stop)
        reply_number(listener, index)
        time.sleep(1.5)
    turns = finish(listener)
    if os.environ.get("BARGE_IN_VERBOSE"):
        print("".join(line for line in listener.stderr
                      if "barge-in" in line or "reply:" in line))
        print("\n".join(f"  {t['text']!r} -> {t['intent']}" for t in turns))
    stopped = [t for t in turns if t["intent"] == "stop"]
    return min(len(stopped), listener.count("reply: cut short")), len(wavs)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=20)
    parser.add_argument("--stops", type=int, default=20)
    parser.add_argument("--sink", choices=["low-latency", "plain", "both"], default="both")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="barge-in-"))
    requests = [synthesize(text, work / f"q{i}.wav", silence_s=0.3)
                for i, text in enumerate(REQUESTS)]
    stop_wavs = [synthesize("stop", work / f"stop{i}.wav", voice, rate)
                 for i, (voice, rate) in enumerate(STOP_VOICES)]
    sinks = ["low-latency", "plain"] if args.sink == "both" else [args.sink]
    with VirtualMic() as mic:
        for sink in sinks:
            with mic.plain() if sink == "plain" else contextlib.nullcontext():
                if args.replies:
                    wavs = [requests[i % len(requests)] for i in range(args.replies)]
                    # the plain sink's monitor lags by seconds: a request said right after a
                    # reply would be heard with the reply's tail
                    gap = 4.5 if sink == "plain" else 1.5
                    whole, cut, extra = replies_in_a_row(mic, wavs, gap)
                    print(f"{sink:12s} long replies in a row: {whole}/{len(wavs)} played to "
                          f"their end ({whole / len(wavs):.0%}), {cut} cut short, "
                          f"{extra} extra turns (itself heard as a request)", flush=True)
                if args.stops:
                    wavs = [requests[i % len(requests)] for i in range(args.stops)]
                    said = [stop_wavs[i % len(stop_wavs)] for i in range(args.stops)]
                    right, tries = stops(mic, wavs, said)
                    print(f"{sink:12s} 'stop' over a reply: {right}/{tries} stopped it "
                          f"({right / tries:.0%})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
