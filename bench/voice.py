"""Voice loop figures through the virtual microphone (a private PulseAudio null sink):

- start-up: from launching ``trust-assistant listen`` to "ready" (seconds), and its peak RSS;
- latency: from the end of the spoken request to the first audio of the reply (median, p95):
  from the end of speech as the microphone heard it (the trailing silence the loop waited for
  included), and from the moment the loop decided the request was complete.

    .venv/bin/python bench/voice.py [--requests N] [--prepared] [--own-words]

``--own-words``: the requests are held-out sentences (bench/data/heldout3.yaml) instead of the
pack's own phrases; the phrase model is then rarely sure of a whole request at its first pause,
and the loop waits out the full end-of-speech silence more often.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from assistant.base.config import Settings  # noqa: E402

REQUESTS = [
    "how do I start rebuilding trust with my partner",
    "what makes an apology sincere",
    "how long will it take for her to trust me again",
    "tell me more",
    "I am the one who was hurt what is my part",
    "say that again",
    "can trust really be rebuilt after an affair",
    "give me a reflection prompt",
]


def own_words(count: int) -> list[str]:
    """``count`` held-out requests, the same ones every run."""
    import random

    import yaml

    data = yaml.safe_load((ROOT / "bench" / "data" / "heldout3.yaml").read_text())
    sentences = [text for text, intent in data["paraphrases"] if intent not in (None, "safety")]
    return random.Random(3).sample(sentences, count)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def startup(vmic: object, env: dict[str, str]) -> tuple[float, float]:
    """(seconds to "ready", peak RSS in MB) of a real ``listen`` process."""
    import psutil

    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "listen", "--timeout", "8"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
    )
    ready = float("nan")
    peak = 0.0
    watcher = psutil.Process(proc.pid)

    def sample() -> None:
        nonlocal peak
        while proc.poll() is None:
            try:
                peak = max(peak, watcher.memory_info().rss / 1e6)
            except psutil.Error:
                return
            time.sleep(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    assert proc.stderr is not None
    for raw in proc.stderr:
        if b"ready:" in raw:
            ready = time.monotonic() - start
            break
    proc.wait(timeout=60)
    thread.join(timeout=2)
    return ready, peak


def latencies(vmic: object, count: int, directory: Path, settings: Settings | None = None,
              prepared: bool = False, requests: list[str] | None = None,
              ) -> tuple[list[float], list[float], list[float]]:
    """Per request: (real end of speech -> reply audio, detected end -> reply audio, reply
    text -> reply audio) seconds, with ``settings`` (default: the defaults); ``prepared``:
    every reply said once and kept first (``say --prepare``), else each reply is made when it
    is first said."""

    from speech import synthesize

    from assistant.app.assistant import Assistant

    app = Assistant(settings or Settings()).load()  # reports nothing (no front end)
    if prepared:
        app.prepare_voice()
    microphone = app.open_microphone()
    loop = app.voice_loop(microphone, wake="always")
    marks: dict[str, float] = {}
    play, hear = loop._play, loop._hear

    def timed_play(speaker, chunks):  # type: ignore[no-untyped-def]
        original = speaker.player.play_stream

        def play_and_mark(chunks, on_start=None, on_queued=None):  # type: ignore[no-untyped-def]
            def started() -> None:
                marks.setdefault("audio", time.monotonic())
                if on_start:
                    on_start()
            return original(chunks, on_start=started, on_queued=on_queued)
        speaker.player.play_stream = play_and_mark
        try:
            return play(speaker, chunks)
        finally:
            speaker.player.play_stream = original

    def timed_hear(segment, mode, barge_in=False):  # type: ignore[no-untyped-def]
        result = hear(segment, mode, barge_in)
        if result is not None:
            marks["detected"] = time.monotonic()
            marks["silence"] = result.silence_s
        return result

    say = loop._speak

    def timed_speak(text):  # type: ignore[no-untyped-def]
        marks.setdefault("text", time.monotonic())
        return say(text)

    loop._play = timed_play  # type: ignore[method-assign]
    loop._hear = timed_hear  # type: ignore[method-assign]
    loop._speak = timed_speak  # type: ignore[method-assign]
    real, detected, from_text = [], [], []
    said = requests or REQUESTS
    try:
        for index in range(count):
            text = said[index % len(said)]
            wav = synthesize(text, directory / f"r{index}.wav", silence_s=0.2)
            marks.clear()
            done = threading.Event()

            def speak(wav: Path = wav, done: threading.Event = done) -> None:
                vmic.play(wav)  # type: ignore[attr-defined]
                done.set()
            threading.Thread(target=speak, daemon=True).start()
            loop.run(turns=loop.turns + 1, timeout_s=30)
            done.wait(10)
            if "audio" in marks and "detected" in marks:
                detected.append(marks["audio"] - marks["detected"])
                real.append(detected[-1] + marks["silence"])
                from_text.append(marks["audio"] - marks["text"])
            if app.dialog.awaiting_answer:
                app.dialog.end_reflection()
            time.sleep(1.0)
    finally:
        microphone.close()
    return real, detected, from_text


def main(argv: list[str]) -> None:
    from vmic import VirtualMic

    count = int(argv[argv.index("--requests") + 1]) if "--requests" in argv else 8
    prepared = "--prepared" in argv
    requests = own_words(count) if "--own-words" in argv else None
    with TemporaryDirectory() as tmp, VirtualMic() as vmic:
        env = {**os.environ, **vmic.env, "TRUST_ASSISTANT_CONFIG_DIR": f"{tmp}/config",
               "TRUST_ASSISTANT_DATA_DIR": f"{tmp}/data"}
        os.environ.update({k: v for k, v in env.items() if k.startswith("TRUST_ASSISTANT")})
        env["TRUST_ASSISTANT_CACHE_DIR"] = f"{tmp}/cache"  # a cold cache, then a warm one
        for run in ("first start (builds the phrase model)", "next start (from the cache)"):
            ready, rss = startup(vmic, env)
            print(f"listen start-up to ready, {run}: {ready:.2f} s   peak RSS {rss:.0f} MB "
                  "(targets: < 3 s; < 800 MB with Whisper and Piper)", flush=True)
        real, detected, from_text = latencies(vmic, count, Path(tmp), prepared=prepared,
                                              requests=requests)
        if not real:
            print("latency: no turn completed")
            return
        print(f"end of speech -> first reply audio, {len(real)} requests"
              + (" in people's own words (held-out), " if requests else " (pack phrases), ")
              + ("every reply said once and kept first (say --prepare):" if prepared else
                 "each reply made when first said:"))
        print(f"  from the end of speech (heard):  median {statistics.median(real) * 1000:5.0f} ms"
              f"   p95 {percentile(real, 0.95) * 1000:5.0f} ms")
        print(f"  from the detected end of speech: median "
              f"{statistics.median(detected) * 1000:5.0f} ms   p95 "
              f"{percentile(detected, 0.95) * 1000:5.0f} ms   (target: median < 500 ms)")
        print(f"  from the reply text:             median "
              f"{statistics.median(from_text) * 1000:5.0f} ms   p95 "
              f"{percentile(from_text, 0.95) * 1000:5.0f} ms   (target with Piper: median "
              "<= 250 ms)")


if __name__ == "__main__":
    main(sys.argv[1:])
