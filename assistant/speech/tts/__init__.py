"""Speech output: text -> :class:`~assistant.audio.devices.Audio` behind the small
:class:`Synthesizer` protocol, played by :class:`~assistant.audio.devices.Player` so that it can
be interrupted.

Each engine lives in its own module (:mod:`.piper`, :mod:`.pyttsx3`, :mod:`.festival`) and
imports its library lazily. Build one with :func:`make_synthesizer`; ``engine: auto`` is Piper
when it and a voice are installed, else pyttsx3 (espeak-ng); Festival is chosen by name. Text
is cleaned and spoken sentence by sentence (:mod:`.text`, :class:`.base.SentenceSynthesizer`),
so playing starts after the first one.
A failure raises :class:`EngineError` or :class:`AudioError` with a one-line message; the
caller then prints the reply instead.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast

from ...audio import wavio
from ...audio.devices import Audio, Player
from ...base.config import AudioSettings, TtsSettings
from ...base.errors import AudioError, EngineError
from . import piper
from .base import MAX_RATE, MIN_RATE, PAUSE_S, SentenceSynthesizer, Synthesizer, Voice, find_voice
from .pyttsx3 import Pyttsx3Synthesizer

__all__ = [
    "ENGINES", "ENGINE_MODULES", "MAX_RATE", "MIN_RATE", "PAUSE_S", "Audio", "Player",
    "Pyttsx3Synthesizer", "SentenceSynthesizer", "Speaker", "Synthesizer", "TtsChoice", "Voice",
    "choose_engine", "engine", "find_voice", "list_voices",
    "make_synthesizer", "piper", "preload", "write_wav",
]

ENGINE_MODULES = {"piper": ".piper", "pyttsx3": ".pyttsx3", "festival": ".festival"}
"""The voices' engines: name -> the module that implements it (see :class:`TtsEngine`)."""
ENGINES = ("auto", *ENGINE_MODULES)
"""Values of ``tts.engine``."""
PREFERENCE = ("piper", "pyttsx3")
"""``auto``: the first installed engine that has the configured voice; the last is the
fallback."""


class TtsEngine(Protocol):
    """What each engine module offers the registry: adding one is a module and an entry."""

    MISSING_NOTE: str

    def available(self) -> bool:
        """Whether the engine and a voice are installed (without loading them)."""

    def make(self, settings: TtsSettings) -> Synthesizer:
        """The synthesizer, loaded."""

    def preload(self, settings: TtsSettings) -> None:
        """Load the voice's weights into the engine's per-process cache, where :meth:`make`
        finds them (safe on any thread; errors are raised again by make)."""

    def list_voices(self) -> list[Voice]:
        """The installed voices."""

    def has_voice(self, spec: str) -> bool:
        """Whether ``spec`` names one of its voices."""


def engine(name: str) -> TtsEngine:
    if name not in ENGINE_MODULES:
        raise EngineError(f"tts.engine: unknown engine '{name}' (choose one of: "
                          f"{', '.join(ENGINES)})")
    return cast(TtsEngine, importlib.import_module(ENGINE_MODULES[name], __package__))


@dataclass(frozen=True)
class TtsChoice:
    """Which engine :func:`make_synthesizer` would use, and why."""

    engine: str
    reason: str
    note: str | None = None
    """A line for the person at start-up when the choice is not what they would expect."""


def choose_engine(settings: TtsSettings) -> TtsChoice:
    """The engine for ``settings``, without loading it. With ``engine: auto``, a voice that
    names no Piper voice (an espeak-ng voice from an older config) keeps pyttsx3."""
    name = settings.engine
    if name != "auto":
        engine(name)  # an unknown name is an error here
        return TtsChoice(name, "asked for")
    *preferred, fallback = PREFERENCE
    note = None
    for candidate in preferred:
        module = engine(candidate)
        if not module.available():
            note = note or module.MISSING_NOTE
            reason = f"{candidate} is not installed"
            continue
        if settings.voice is None or module.has_voice(settings.voice):
            return TtsChoice(candidate, f"{candidate} and a voice are installed")
        reason = f"'{settings.voice}' is not a {candidate} voice"
    return TtsChoice(fallback, reason, note=note)


def make_synthesizer(settings: TtsSettings) -> Synthesizer:
    """The synthesizer ``settings`` ask for, loaded (call it once and reuse it);
    :class:`EngineError` if it cannot be loaded or the voice is unknown."""
    return engine(choose_engine(settings).engine).make(settings)


def preload(settings: TtsSettings) -> None:
    """Load the voice :func:`make_synthesizer` will use, so that it then finds it loaded
    (called on a background thread at start-up; errors are raised, and again by it)."""
    engine(choose_engine(settings).engine).preload(settings)


def list_voices(settings: TtsSettings) -> list[tuple[str, Voice]]:
    """(engine, voice) for every voice of every installed engine (``say --list-voices``),
    the engine ``settings`` would use first; without loading a Piper model."""
    choice = choose_engine(settings)
    found: list[tuple[str, Voice]] = []
    names = [choice.engine, *(n for n in ENGINE_MODULES if n != choice.engine)]
    for name in names:
        try:
            found += [(name, v) for v in engine(name).list_voices()]
        except EngineError:
            if name == choice.engine:
                raise
    return found


# -- files -----------------------------------------------------------------------------------


def write_wav(audio: Audio, path: Path | str) -> Path:
    """Write ``audio`` as a 16-bit mono WAV file (:func:`assistant.audio.wavio.write_wav`);
    :class:`AudioError` when it cannot."""
    try:
        return wavio.write_wav(path, audio.pcm, audio.sample_rate)
    except OSError as exc:
        raise AudioError(f"cannot write {path}: {exc.strerror or exc}") from None


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
