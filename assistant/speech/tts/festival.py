"""The Festival engine: Debian's ``festival`` with an HTS voice (``festvox-us-slt-hts``).

A light voice between espeak-ng and Piper: read back by Whisper, the shipped replies come out
with fewer wrong words than espeak-ng's (``bench/tts_voice.py``), at a few MB and no Python
package. Each sentence is one ``text2wave`` run (about a third of a second to start), so the
voice is chosen explicitly (``tts: {engine: festival}``), not by ``auto``; known sentences are
kept (:mod:`.rendered`), so only new ones wait for it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ...audio.devices import Audio
from ...base.config import TtsSettings
from ...base.errors import EngineError
from .base import (
    SentenceSynthesizer,
    Synthesizer,
    Voice,
    check_volume,
    clamp_rate,
    find_voice,
    read_speech_file,
)

VOICES_DIR = Path("/usr/share/festival/voices")
"""Where Debian's festvox packages put the voices: ``<region>/<voice>/``."""
NATURAL_WPM = 165
"""The HTS voices' own speaking rate (words per minute), at HTS speed 1.0."""
MIN_RATE, MAX_RATE = 85, 330
"""HTS speeds 0.5 to 2.0."""
SAMPLE_RATE = 22050
TIMEOUT_S = 30.0
_REGIONS = {"us": "en_US", "english": "en_GB", "british": "en_GB"}
INSTALL = "apt install festival festvox-us-slt-hts"


def _text2wave() -> str | None:
    return shutil.which("text2wave")


def installed_voices() -> list[Voice]:
    """The HTS voices in :data:`VOICES_DIR` (other Festival voices ignore the rate)."""
    if not VOICES_DIR.is_dir():
        return []
    found = []
    for folder in sorted(VOICES_DIR.glob("*/*_hts")):
        parts = folder.name.split("_")
        speaker = parts[2] if len(parts) > 3 else folder.name
        language = _REGIONS.get(folder.parent.name, folder.parent.name)
        found.append(Voice(id=folder.name, name=speaker, languages=(language,)))
    return found


class FestivalSynthesizer(SentenceSynthesizer):
    """Festival's HTS voices behind :class:`~assistant.speech.tts.Synthesizer`; ``voice`` an id,
    name or language as :func:`installed_voices` lists them (None: the first)."""

    name = "festival"
    rate_range = (MIN_RATE, MAX_RATE)
    sample_rate = SAMPLE_RATE

    def __init__(self, voice: str | None = None, rate: int = NATURAL_WPM,
                 volume: float = 1.0) -> None:
        program = _text2wave()
        if program is None:
            raise EngineError(f"Festival is not installed ({INSTALL})")
        self._program = program
        self._voice = self._choose(voice)
        self._rate = clamp_rate(rate, MIN_RATE, MAX_RATE)
        self._volume = check_volume(volume)

    @staticmethod
    def _choose(spec: str | None) -> str:
        voices = installed_voices()
        if not voices:
            raise EngineError(f"no Festival HTS voice is installed ({INSTALL})")
        return voices[0].id if spec is None else find_voice(spec, voices).id

    @property
    def voice(self) -> str | None:
        return self._voice

    def set_voice(self, voice: str | None) -> str | None:
        self._voice = self._choose(voice)
        return self._voice

    def voices(self) -> list[Voice]:
        return installed_voices()

    def speak_sentence(self, sentence: str) -> Audio:
        speed = self._rate / NATURAL_WPM
        command = [
            self._program, "-eval", f"(voice_{self._voice})",
            "-eval", f'(set! hts_engine_params (append hts_engine_params (list (list "-r" '
                     f"{speed:.3f}))))",
            "-F", str(SAMPLE_RATE), "-scale", f"{self._volume:.3f}",
        ]
        with tempfile.TemporaryDirectory(prefix="trust-assistant-tts-") as folder:
            path = Path(folder) / "speech.wav"
            try:
                done = subprocess.run(
                    [*command, "-o", str(path)], input=sentence.encode("latin-1", "replace"),
                    capture_output=True, timeout=TIMEOUT_S, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise EngineError(f"Festival failed: {exc}") from None
            if done.returncode != 0 or not path.is_file():
                reason = " ".join(done.stderr.decode(errors="replace").split())[:160]
                raise EngineError(f"Festival failed: {reason or f'exit {done.returncode}'}")
            return read_speech_file(path)


# ----------------------------------------------------------------- the registry's interface

MISSING_NOTE = f"Festival is not installed: {INSTALL}"


def available() -> bool:
    return _text2wave() is not None and bool(installed_voices())


def make(settings: TtsSettings) -> Synthesizer:
    return FestivalSynthesizer(settings.voice, settings.rate, settings.volume)


def preload(settings: TtsSettings) -> None:
    """Nothing: each sentence is a ``text2wave`` run of its own."""


def list_voices() -> list[Voice]:
    return installed_voices() if _text2wave() is not None else []


def has_voice(spec: str) -> bool:
    from .base import find_voice_or_none

    return find_voice_or_none(spec, list_voices(), languages=False) is not None
