"""`make report`: the evaluation report, docs/report.md with PNG plots in docs/report/ (issue 13).

    .venv/bin/python bench/report.py [--quick] [--out docs]

Everything is measured in this run, on this machine, beside naive baselines measured the same
way: spoken-request accuracy against noise (white and babble at 20, 10 and 5 dB) per engine
set-up; typed safety recall and false alarms (patterns alone, with the meaning-based probe, and
a danger-word baseline); out-of-scope rejection and the most frequent confusions on the
held-out sets (against a plain nearest-example baseline and the majority intent); word error
rate on real recordings (LibriVox, in Debian's pocketsphinx-testdata); end of speech to the
first reply audio through the virtual microphone; memory over a soak (bench/soak.py's last
figures, bench/data/soak_last.json, or a short soak run now). `--quick` uses fewer requests.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]
os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from rapidfuzz import fuzz, process  # noqa: E402
from run_all import machine  # noqa: E402
from safety import voiced_rms  # noqa: E402
from speech import corpus_wer, librivox, synthesize  # noqa: E402

from assistant.app.runtime import danger_probe, make_matcher  # noqa: E402
from assistant.audio.wavio import read_wav  # noqa: E402
from assistant.base.config import Settings  # noqa: E402
from assistant.dialog.manager import Dialog  # noqa: E402
from assistant.speech.stt import Recognizer, make_recognizer  # noqa: E402
from assistant.understanding.matcher import Matcher  # noqa: E402

DATA = ROOT / "bench" / "data"
SNRS = (20, 10, 5)
RATE = 16000
SAFETY_SETS = {
    "safety_eval.yaml": "taught",
    "safety_blind7.yaml": "blind, tuned since",
    "safety_blind8.yaml": "blind, tuned since",
    "safety_blind9.yaml": "blind, not tuned on",
}
"""The typed safety sets: the project's own (in the probe's training), two earlier blind sets
(no training, but the probe was retrained after their first contact) and the newest blind set
(no training, nothing tuned on it; its first-contact figures are kept beside it)."""
DANGER_WORDS = ("kill", "die", "dead", "suicide", "hurt", "hit", "hits", "abuse", "scared",
                "afraid", "threat", "threatened", "weapon", "gun", "knife", "rape", "harm")
"""The naive safety baseline: any of these words gets the safety reply."""


def heldout(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DATA / name).read_text())
    return data


# ------------------------------------------------------------------------------ understanding

def understanding(matcher: Matcher, out: Path) -> tuple[list[str], dict[str, Any]]:
    """Top-1 accuracy and out-of-scope rejection on the held-out sets, with baselines; the
    most frequent confusions."""
    examples = [(e.text, matcher.intents[e.intent].name) for e in matcher.examples]
    sentences = [s for s, _ in examples]
    rows = []
    confusions: Counter[tuple[str, str]] = Counter()
    figures: dict[str, Any] = {}
    for name in ("heldout.yaml", "heldout2.yaml", "heldout3.yaml"):
        data = heldout(name)
        pairs = [(t, i) for t, i in data["paraphrases"]]
        counts = Counter(i for _, i in pairs)
        majority = counts.most_common(1)[0][1] / len(pairs)
        right = naive = 0
        for text, intent in pairs:
            got = matcher.match(text).intent
            right += got == intent
            if got != intent:
                confusions[(str(intent), str(got))] += 1
            best = process.extractOne(text.lower(), sentences, scorer=fuzz.ratio)
            naive += best is not None and examples[best[2]][1] == intent
        oos = data["out_of_scope"]
        rejected = sum(matcher.match(t).intent is None for t in oos)
        naive_rejected = sum(
            (process.extractOne(t.lower(), sentences, scorer=fuzz.ratio) or (0, 0, 0))[1] < 60
            for t in oos)
        figures[name] = {"top1": right / len(pairs), "naive": naive / len(pairs),
                         "majority": majority, "oos": rejected / len(oos),
                         "naive_oos": naive_rejected / len(oos), "n": len(pairs),
                         "n_oos": len(oos)}
        f = figures[name]
        rows.append(f"| {name} | {len(pairs)} | {f['top1']:.1%} | {f['naive']:.1%} | "
                    f"{f['majority']:.1%} | {len(oos)} | {f['oos']:.1%} | {f['naive_oos']:.1%} |")
    names = list(figures)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for shift, key, label in ((-0.3, "top1", "matcher: top-1"),
                              (-0.1, "naive", "baseline: nearest example (fuzz.ratio)"),
                              (0.1, "oos", "matcher: out-of-scope rejected"),
                              (0.3, "naive_oos", "baseline: rejected below ratio 60")):
        ax.bar(x + shift, [figures[n][key] for n in names], 0.2, label=label)
    ax.set_xticks(x, names)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("Typed requests, held-out sets")
    fig.tight_layout()
    fig.savefig(out / "understanding.png", dpi=110)
    plt.close(fig)
    lines = [
        "| set | requests | matcher top-1 | baseline: nearest example | baseline: majority "
        "intent | out of scope | matcher rejects | baseline rejects |",
        "|---|---|---|---|---|---|---|---|", *rows, "",
        "![typed understanding](report/understanding.png)", "",
        "The most frequent confusions (expected -> got, over the three held-out sets):", "",
        "| expected | got | times |", "|---|---|---|",
        *[f"| {e} | {g} | {n} |" for (e, g), n in confusions.most_common(10)],
    ]
    return lines, figures


# -------------------------------------------------------------------------------------- safety

def safety(matcher: Matcher, out: Path) -> tuple[list[str], dict[str, Any]]:
    """Typed safety: recall and false alarms with patterns alone, with the probe, and the
    danger-word baseline, on a taught set and on the blind set."""
    probe = danger_probe()

    def judge(dialog_of: Callable[[], Dialog]) -> Callable[[str], bool]:
        def said(text: str) -> bool:
            turn = dialog_of().handle(text)
            return turn.intent is not None and matcher.pack.intents[turn.intent].safety
        return said

    def words(text: str) -> bool:
        tokens = set(text.lower().replace(",", " ").replace(".", " ").split())
        return bool(tokens & set(DANGER_WORDS))

    judges = {"patterns alone": judge(lambda: Dialog(matcher, rng=random.Random(1))),
              "patterns + probe": judge(lambda: Dialog(matcher, rng=random.Random(1),
                                                       danger=probe)),
              "baseline: danger words": words}
    figures: dict[tuple[str, str], tuple[float, float]] = {}
    rows = []
    for name in SAFETY_SETS:
        data = heldout(name)
        danger = [t for t, _ in data["safety"]]
        near = [t for t, _ in data["near_misses"]]
        for label, said in judges.items():
            recall = sum(map(said, danger)) / len(danger)
            alarms = sum(map(said, near)) / len(near)
            figures[(name, label)] = (recall, alarms)
            rows.append(f"| {name} | {label} | {len(danger)} | {recall:.1%} | {len(near)} | "
                        f"{alarms:.1%} |")
    fig, axes = plt.subplots(1, len(SAFETY_SETS), figsize=(11, 3.2), sharey=True)
    for ax, (name, kind) in zip(axes, SAFETY_SETS.items(), strict=True):
        labels = list(judges)
        x = np.arange(len(labels))
        ax.bar(x - 0.2, [figures[(name, lab)][0] for lab in labels], 0.4, label="recall")
        ax.bar(x + 0.2, [figures[(name, lab)][1] for lab in labels], 0.4, label="false alarms")
        ax.set_xticks(x, [lab.replace(": ", ":\n") for lab in labels], fontsize=7)
        ax.set_title(f"{name.replace('.yaml', '')} ({kind})", fontsize=9)
        ax.set_ylim(0, 1)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "safety.png", dpi=110)
    plt.close(fig)
    return ["| set | judge | statements | recall | near misses | false alarms |",
            "|---|---|---|---|---|---|", *rows, "", "![safety](report/safety.png)",
            "", "safety_eval is the project's own set and was used in training the probe. "
            "The blind sets were written by helper sessions that saw nothing of the pack or "
            "the code, and are in no training; the probe was retrained after the first contact "
            "of safety_blind7 and safety_blind8 (bench/data/safety_blind*_first_contact.txt, "
            "_after.txt); nothing was tuned on safety_blind9 (its first contact, before the "
            "fourth training batch: bench/data/safety_blind9_first_contact.txt). The "
            "dialog's spoken check-in (safety_check) is not counted here."], {
                f"{k[0]}|{k[1]}": v for k, v in figures.items()}


# ------------------------------------------------------------------------------ spoken + noise

def babble(n: int, seed: int, work: Path) -> np.ndarray[Any, Any]:
    """Four espeak-ng voices reading other requests at once: speech-like noise with words."""
    rng = random.Random(seed)
    texts = [t for t, _ in heldout("heldout2.yaml")["paraphrases"]]
    mix = np.zeros(n)
    for k, voice in enumerate(("en-us", "en-gb", "en-us+f2", "en-us+m3")):
        pcm = b""
        while len(pcm) // 2 < n:
            pcm += read_wav(synthesize(rng.choice(texts), work / f"b{seed}_{k}.wav", voice, 170))
        speech = np.frombuffer(pcm[: n * 2], dtype=np.int16).astype(np.float64)
        mix += speech / (np.sqrt(np.mean(speech ** 2)) or 1.0)
    return mix / (np.sqrt(np.mean(mix ** 2)) or 1.0)


def noisy(pcm: bytes, kind: str, snr: float, seed: int, work: Path) -> bytes:
    speech = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    if kind == "white":
        noise = np.random.default_rng(seed).standard_normal(len(speech))
    else:
        noise = babble(len(speech), seed, work)
    mixed = speech + noise * voiced_rms(speech) / 10 ** (snr / 20)
    return np.clip(np.round(mixed), -32768, 32767).astype(np.int16).tobytes()


def spoken(matcher: Matcher, quick: bool, work: Path,
           out: Path) -> tuple[list[str], dict[str, Any]]:
    """Intent accuracy of spoken held-out requests, clean and in noise, per engine set-up."""
    pairs = [(t, i) for t, i in heldout("heldout3.yaml")["paraphrases"] if i is not None]
    pairs = pairs[:: 12 if quick else 6]
    clean = [read_wav(synthesize(t, work / f"s{k}.wav", "en-us", 165, silence_s=0.4))
             for k, (t, _) in enumerate(pairs)]
    conditions: list[tuple[str, str, float | None]] = [("clean", "clean", None)] + [
        (f"{kind} {snr} dB", kind, snr) for kind in ("white", "babble") for snr in SNRS]
    audio = {label: clean if snr is None else [
        noisy(p, kind, snr, zlib.crc32(f"{k}{kind}{snr}".encode()), work)
        for k, p in enumerate(clean)] for label, kind, snr in conditions}
    base = Settings().stt
    setups: dict[str, Any] = {
        "default (phrase model + Whisper second reading)": replace(base, engine="auto"),
        "phrase model alone (PocketSphinx, pack-biased)": replace(
            base, engine="pocketsphinx", second_pass=False),
        "Whisper tiny.en alone": replace(base, engine="whisper"),
        "baseline: PocketSphinx generic model, no bias": replace(
            base, engine="pocketsphinx", bias=False, second_pass=False),
    }
    wake = (Settings().listen.wake_phrase,)
    figures: dict[str, dict[str, float]] = {}
    timing: dict[str, float] = {}
    for name, stt in setups.items():
        recognizer: Recognizer = make_recognizer(stt, matcher.pack, extra_phrases=wake)
        figures[name] = {}
        started = time.monotonic()
        for label, _, _ in conditions:
            right = 0
            for pcm, (_, intent) in zip(audio[label], pairs, strict=True):
                reading = getattr(recognizer, "read_twice", None)
                heard = reading(pcm) if reading else recognizer.transcribe(pcm, "command")
                turn = Dialog(matcher, rng=random.Random(1)).handle(
                    heard.text or "...", heard.confidence, list(heard.alternatives))
                right += turn.intent == intent
            figures[name][label] = right / len(pairs)
        timing[name] = (time.monotonic() - started) / (len(pairs) * len(conditions))
        print(f"  spoken: {name}: " + ", ".join(f"{k} {v:.0%}" for k, v in
                                                figures[name].items()), flush=True)
    majority = Counter(i for _, i in pairs).most_common(1)[0][1] / len(pairs)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    for ax, kind in zip(axes, ("white", "babble"), strict=True):
        xs = ["clean", *(f"{kind} {s} dB" for s in SNRS)]
        for name in setups:
            ax.plot(range(len(xs)), [figures[name][x] for x in xs], marker="o",
                    label=name.split(" (")[0] if "baseline" not in name else "baseline")
        ax.axhline(majority, color="grey", linestyle=":", label="baseline: majority intent")
        ax.set_xticks(range(len(xs)), ["clean", *(f"{s} dB" for s in SNRS)])
        ax.set_title(f"{kind} noise")
        ax.set_ylim(0, 1)
    axes[0].set_ylabel("intent right")
    axes[1].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(out / "noise.png", dpi=110)
    plt.close(fig)
    header = "| set-up | " + " | ".join(label for label, _, _ in conditions) + " | s / request |"
    rows = [f"| {name} | " + " | ".join(f"{figures[name][label]:.0%}" for label, _, _ in
                                        conditions) + f" | {timing[name]:.2f} |"
            for name in setups]
    return [f"{len(pairs)} held-out requests (heldout3.yaml, every {12 if quick else 6}th), "
            "espeak-ng en-us at 165 words a minute; noise mixed at the SNR against the voiced "
            f"part of the speech. Majority-intent baseline: {majority:.0%}.", "",
            header, "|---" * (len(conditions) + 2) + "|", *rows, "",
            "![accuracy against noise](report/noise.png)"], {
                "accuracy": figures, "seconds_per_request": timing, "majority": majority}


# ----------------------------------------------------------------------------- real recordings

def recordings() -> tuple[list[str], dict[str, float]]:
    """Word error rate on LibriVox recordings (free-form speech, no pack bias)."""
    files = librivox()
    if not files:
        return ["pocketsphinx-testdata is not installed: no real recordings here."], {}
    base = Settings().stt
    figures = {}
    for name, stt in (("Whisper tiny.en", replace(base, engine="whisper")),
                      ("baseline: PocketSphinx generic model", replace(
                          base, engine="pocketsphinx", bias=False, second_pass=False))):
        recognizer = make_recognizer(stt, None)
        pairs = [(text.lower(), recognizer.transcribe(read_wav(path, RATE), "open").text)
                 for path, text in files]
        figures[name] = corpus_wer(pairs)
    rows = [f"| {name} | {len(files)} | {wer:.1%} |" for name, wer in figures.items()]
    return ["| recogniser | recordings | word error rate |", "|---|---|---|", *rows], figures


# ------------------------------------------------------------------------------------ latency

def latency(count: int, out: Path) -> tuple[list[str], dict[str, Any]]:
    """End of speech to the first reply audio through the virtual microphone (bench/voice.py),
    with the default voice and with the espeak-ng baseline voice."""
    from vmic import VirtualMic
    from voice import latencies

    figures: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp, VirtualMic() as vmic:
        for name, engine in (("Piper (default)", "piper"), ("baseline: espeak-ng", "pyttsx3")):
            settings = Settings()
            settings = settings.replace(tts=replace(settings.tts, engine=engine))
            real, _, _ = latencies(vmic, count, Path(tmp), settings)
            figures[name] = [r * 1000 for r in real]
    fig, ax = plt.subplots(figsize=(7, 3))
    for name, values in figures.items():
        if values:
            ax.hist(values, bins=12, alpha=0.6, label=f"{name} (median "
                    f"{statistics.median(values):.0f} ms)")
    ax.set_xlabel("end of speech -> first reply audio (ms)")
    ax.set_ylabel("requests")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "latency.png", dpi=110)
    plt.close(fig)
    rows = [f"| {name} | {len(v)} | {statistics.median(v):.0f} ms | {max(v):.0f} ms |"
            for name, v in figures.items() if v]
    return ["| voice | requests | median | max |", "|---|---|---|---|", *rows, "",
            "![latency](report/latency.png)"], figures


# --------------------------------------------------------------------------------------- soak

def soak(out: Path, minutes: float) -> tuple[list[str], dict[str, Any]]:
    path = DATA / "soak_last.json"
    command = "make soak"
    if not path.exists():
        command = f".venv/bin/python bench/soak.py --minutes {minutes:g}"
        subprocess.run([sys.executable, str(ROOT / "bench" / "soak.py"), "--minutes",
                        str(minutes), "--json", str(out / "soak.json")], check=False)
        path = out / "soak.json"
    if not path.exists():
        return ["The soak did not run."], {}
    figures: dict[str, Any] = json.loads(path.read_text())
    samples = figures.get("rss_samples") or []
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.plot([s[0] / 60 for s in samples], [s[1] for s in samples])
    ax.set_xlabel("minutes of audio streamed")
    ax.set_ylabel("RSS (MB)")
    ax.set_ylim(0, max([s[1] for s in samples] + [1]) * 1.1)
    fig.tight_layout()
    fig.savefig(out / "soak.png", dpi=110)
    plt.close(fig)
    return [f"From `{command}` ({figures['audio_min']} min of audio in {figures['wall_min']} "
            f"min, {figures['speed_x_real_time']} x real time): "
            f"{figures['answered']}/{figures['requests']} requests answered, "
            f"{figures['turns_outside_requests']} turns heard in noise or silence; RSS "
            f"{figures['rss_after_warm_up_mb']} MB after the warm-up, {figures['rss_end_mb']} "
            f"MB at the end ({100 * figures['rss_growth']:+.1f} %), peak "
            f"{figures['rss_peak_mb']} MB; open files {figures['fds_after_warm_up']} -> "
            f"{figures['fds_end']}, threads {figures['threads_after_warm_up']} -> "
            f"{figures['threads_end']}; crash: {figures['crash'] or 'none'}.", "",
            "![memory over the soak](report/soak.png)"], figures


# --------------------------------------------------------------------------------------- main

def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--soak-minutes", type=float, default=10.0,
                        help="a soak this long when make soak has not run")
    parser.add_argument("--skip", action="append", default=[], metavar="SECTION",
                        help="leave a section out (understanding, safety, noise, recordings, "
                             "latency, soak); repeatable")
    args = parser.parse_args(argv)
    plots = args.out / "report"
    plots.mkdir(parents=True, exist_ok=True)
    command = ".venv/bin/python bench/report.py" + (" --quick" if args.quick else "") + "".join(
        f" --skip {name}" for name in args.skip)
    sections: list[tuple[str, str, list[str]]] = []
    figures: dict[str, Any] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as home:
        os.environ["TRUST_ASSISTANT_DATA_DIR"] = f"{home}/data"
        os.environ["TRUST_ASSISTANT_CONFIG_DIR"] = f"{home}/config"
        work = Path(home)
        matcher = make_matcher(Settings())
        steps: list[tuple[str, str, Callable[[], tuple[list[str], Any]]]] = [
            ("Understanding typed requests", "understanding",
             lambda: understanding(matcher, plots)),
            ("Safety", "safety", lambda: safety(matcher, plots)),
            ("Spoken requests against noise", "noise",
             lambda: spoken(matcher, args.quick, work, plots)),
            ("Word error rate on real recordings", "recordings", recordings),
            ("End of speech to the first reply audio", "latency",
             lambda: latency(4 if args.quick else 10, plots)),
            ("Memory over a long session", "soak", lambda: soak(plots, args.soak_minutes)),
        ]
        steps = [step for step in steps if step[1] not in args.skip]
        for index, (title, key, step) in enumerate(steps):
            print(f"== {title}", flush=True)
            began = time.monotonic()
            try:
                lines, figures[key] = step()
            except Exception as exc:  # one section failing leaves the others
                lines = [f"This section failed: {type(exc).__name__}: {exc}"]
            sections.append((title, f"{time.monotonic() - began:.0f} s", lines))
            # written after each section, so an interrupted run keeps what it measured
            write(args.out, command, started, sections, [t for t, _, _ in steps[index + 1:]])
            (plots / "figures.json").write_text(json.dumps(figures, indent=1, default=str))
    print(f"wrote {args.out / 'report.md'} and {plots}/*.png")
    return 0


def write(out: Path, command: str, started: float, sections: list[tuple[str, str, list[str]]],
          pending: list[str]) -> None:
    text = [
        "# Evaluation report", "",
        f"Made by `make report` (`{command}`) on {date.today().isoformat()}, in "
        f"{(time.monotonic() - started) / 60:.0f} min, on: {machine()}. matplotlib "
        f"{matplotlib.__version__}. Every figure below was measured in that run, beside its "
        "naive baseline; this file and docs/report/*.png are written by it (do not edit).", "",
    ]
    for title, took, lines in sections:
        text += [f"## {title}", "", *lines, "", f"_({took})_", ""]
    if pending:
        text += ["## Not measured in this run", "", *(f"- {title}" for title in pending), ""]
    (out / "report.md").write_text("\n".join(text))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
