"""Speech for tests: espeak-ng synthesis into a temporary directory, and word error rate.

espeak-ng writes 22.05 kHz mono WAV; :func:`synthesize` resamples it to the 16 kHz mono
16-bit WAV the recognisers take, optionally with silence around the speech.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from assistant.audio.wavio import TARGET_RATE, read_wav, write_wav

ESPEAK = shutil.which("espeak-ng")

GOFORWARD_RAW = Path("/usr/share/pocketsphinx/test/data/goforward.raw")
"""A real recording (16 kHz mono raw int16) of "go forward ten meters" (pocketsphinx-testdata)."""
LIBRIVOX_DIR = Path("/usr/share/pocketsphinx/test/data/librivox")
"""Real read speech (LibriVox) with a ``transcription`` file (pocketsphinx-testdata)."""


def synthesize(
    text: str,
    path: Path,
    voice: str = "en-us",
    rate: int = 160,
    silence_s: float = 0.0,
) -> Path:
    """Speak ``text`` with espeak-ng ``voice`` at ``rate`` words per minute into ``path``.

    The WAV written is 16 kHz mono 16-bit, with ``silence_s`` seconds of silence before and
    after the speech. Returns ``path``.
    """
    if ESPEAK is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    raw = path.with_suffix(".espeak.wav")
    subprocess.run(
        [ESPEAK, "-v", voice, "-s", str(rate), "-w", str(raw), text],
        check=True, capture_output=True,
    )
    pcm = read_wav(raw)
    raw.unlink()
    pad = b"\0\0" * int(silence_s * TARGET_RATE)
    return write_wav(path, pad + pcm + pad)


def speak(text: str, directory: Path, voice: str = "en-us", rate: int = 160) -> bytes:
    """16 kHz mono 16-bit PCM of ``text`` spoken by espeak-ng (a WAV is left in ``directory``)."""
    name = "_".join(text.split()[:6]) or "empty"
    path = directory / f"{name}-{voice.replace('+', '_')}-{rate}.wav"
    return read_wav(synthesize(text, path, voice, rate))


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of ``hypothesis`` against ``reference``: edits / reference words."""
    ref, hyp = reference.split(), hypothesis.split()
    if not ref:
        return float(bool(hyp))
    return edit_distance(ref, hyp) / len(ref)


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance between two word lists (substitutions, insertions, deletions)."""
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        current = [i]
        for j, hyp_word in enumerate(hyp, 1):
            current.append(min(
                previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)
            ))
        previous = current
    return previous[-1]


def corpus_wer(pairs: list[tuple[str, str]]) -> float:
    """Word error rate over (reference, hypothesis) pairs: total edits / total words."""
    edits = sum(edit_distance(r.split(), h.split()) for r, h in pairs)
    words = sum(len(r.split()) for r, _ in pairs)
    return edits / max(words, 1)


def librivox() -> list[tuple[Path, str]]:
    """(WAV file, reference transcript) of each LibriVox recording in pocketsphinx-testdata."""
    result = []
    for line in (LIBRIVOX_DIR / "transcription").read_text().splitlines():
        words = line.split()
        if len(words) < 3:
            continue
        file_id = words[-1].strip("()")
        text = " ".join(w for w in words[:-1] if w not in ("<s>", "</s>"))
        result.append((LIBRIVOX_DIR / f"{file_id}.wav", text))
    return result
