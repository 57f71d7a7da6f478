"""Benchmark the voices: time to first audio, real-time factor, memory, intelligibility.

    python bench/tts_voice.py                       # every installed engine's default voice
    python bench/tts_voice.py --engine piper --n 20 --json

For each engine (in a process of its own, so that its memory is its own), ``--n`` shipped
replies (the first reply of each intent of the English pack, spread over the pack) are
synthesised as the assistant speaks them, sentence by sentence:

- *first audio*: from the reply text to the synthesizer's first chunk (the first sentence,
  ready to play); the median is the target (<= 250 ms with Piper);
- *real-time factor*: synthesis time over the length of the speech;
- *peak RSS*: the process's peak resident memory after loading the voice and speaking them
  (before the recogniser below is loaded);
- *read-back WER*: each reply's audio transcribed by Whisper ``tiny.en`` (the bundled model,
  ``assistant/speech/stt/whisper.py``) and compared with the reply text, both normalised as the
  matcher normalises text ("two" and "2" alike); the target is <= 8 % with the default voice.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TARGET_FIRST_MS = 250.0
TARGET_WER = 0.08


def shipped_replies(n: int) -> list[str]:
    """``n`` different replies of the shipped English pack: the first reply of intents spread
    evenly over the pack (by name), those with slots to fill left out."""
    from assistant.app.runtime import load_pack
    from assistant.base.config import Settings

    pack = load_pack(Settings())
    replies = list(dict.fromkeys(i.replies[0] for _, i in sorted(pack.intents.items())
                                 if i.replies and "{" not in i.replies[0]))
    step = max(len(replies) / n, 1.0)
    return [replies[int(k * step)] for k in range(min(n, len(replies)))]


def word_errors(reference: list[str], heard: list[str]) -> int:
    """Word-level edit distance (substitutions, insertions, deletions)."""
    row = list(range(len(heard) + 1))
    for i, ref in enumerate(reference, 1):
        previous, row[0] = row[0], i
        for j, word in enumerate(heard, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1,
                                           previous + (ref != word))
    return row[-1]


def measure(engine: str, n: int) -> dict[str, Any]:
    """One engine's figures, in this process."""
    from assistant.base.config import TtsSettings
    from assistant.base.normalize import normalize
    from assistant.speech.stt.whisper import WhisperRecognizer
    from assistant.speech.tts import make_synthesizer

    replies = shipped_replies(n)
    started = time.perf_counter()
    synth = make_synthesizer(TtsSettings(engine=engine))
    load_s = time.perf_counter() - started
    list(synth.stream("Warming up. Once."))
    firsts, totals, speech, audios = [], [], 0.0, []
    for text in replies:
        begin = time.perf_counter()
        chunks = synth.stream(text)
        first = next(chunks)
        firsts.append(time.perf_counter() - begin)
        rest = list(chunks)
        totals.append(time.perf_counter() - begin)
        pcm = first.pcm + b"".join(c.pcm for c in rest)
        audios.append(type(first)(pcm, first.sample_rate))
        speech += audios[-1].duration_s
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    recognizer = WhisperRecognizer()
    errors = words = 0
    worst: list[tuple[float, str, str]] = []
    for text, audio in zip(replies, audios, strict=True):
        heard = recognizer.transcribe(audio.resampled(16000).pcm, "open").text
        ref, got = normalize(text).split(), normalize(heard).split()
        wrong = word_errors(ref, got)
        errors, words = errors + wrong, words + len(ref)
        worst.append((wrong / max(len(ref), 1), text, heard))
    worst.sort(reverse=True)
    return {
        "engine": engine, "voice": synth.voice, "rate_wpm": synth.rate, "replies": len(replies),
        "load_ms": round(load_s * 1000), "speech_s": round(speech, 1),
        "first_audio_median_ms": round(statistics.median(firsts) * 1000, 1),
        "first_audio_max_ms": round(max(firsts) * 1000, 1),
        "real_time_factor": round(sum(totals) / speech, 3),
        "peak_rss_mb": round(peak_mb),
        "wer": round(errors / words, 4), "words": words,
        "worst": [{"wer": round(w, 2), "reply": t, "heard": h} for w, t, h in worst[:3]],
    }


def report(result: dict[str, Any]) -> str:
    first_ok = "ok" if result["first_audio_median_ms"] <= TARGET_FIRST_MS else "MISSED"
    wer_ok = "ok" if result["wer"] <= TARGET_WER else "MISSED"
    lines = [
        f"{result['engine']} ({result['voice'] or 'default voice'}, {result['rate_wpm']} wpm): "
        f"{result['replies']} shipped replies, {result['speech_s']} s of speech; "
        f"voice loaded in {result['load_ms']} ms",
        f"  first audio   median {result['first_audio_median_ms']} ms, max "
        f"{result['first_audio_max_ms']} ms (target <= {TARGET_FIRST_MS:.0f} ms: {first_ok})",
        f"  real-time factor {result['real_time_factor']}; peak RSS {result['peak_rss_mb']} MB",
        f"  read-back WER {result['wer']:.1%} of {result['words']} words, Whisper tiny.en "
        f"(target <= {TARGET_WER:.0%} for the default voice: {wer_ok})",
    ]
    lines += [f"    {w['wer']:.0%}: {w['reply']!r}\n      heard {w['heard']!r}"
              for w in result["worst"] if w["wer"] > 0]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", action="append", choices=["piper", "pyttsx3", "festival"],
                        help="engine to measure (repeatable; default: every installed one)")
    parser.add_argument("--n", type=int, default=20, help="shipped replies (default 20)")
    parser.add_argument("--json", action="store_true", help="one JSON object per engine")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # this engine, in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.n)))
        return 0
    from assistant.speech import tts

    engines = args.engine or [name for name in tts.ENGINE_MODULES
                              if name == "pyttsx3" or tts.engine(name).available()]
    for engine in engines:
        done = subprocess.run([sys.executable, __file__, "--one", engine, "--n", str(args.n)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{engine}: failed: {done.stderr.strip().splitlines()[-1:]}")
            return 1
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(json.dumps(result) if args.json else report(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
