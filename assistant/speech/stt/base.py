"""What every speech recogniser offers: the :class:`Recognizer` protocol, its optional extras
(:class:`PhraseListener`, :class:`SecondReading`) and the :class:`Transcript` it returns.

Engines import this module, never the package's registry (:mod:`assistant.speech.stt`), so the
registry can import the engines without a circle."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ...base.config import SttSettings
    from .vocabulary import Vocabulary

Mode = Literal["command", "open"]
"""``command``: biased towards the intent pack's phrases (with an open path for off-script
speech); ``open``: free-form speech such as a reflection answer."""

@dataclass(frozen=True)
class Transcript:
    text: str
    """Recognised words, lower case, no punctuation; empty when nothing was understood."""
    confidence: float
    """0..1, the engine's own estimate."""
    alternatives: tuple[str, ...] = ()
    """Other readings of the same audio (another search or engine), most likely first."""


class Recognizer(Protocol):
    """A streaming recogniser: ``start``, ``feed`` audio, ``finish`` for the final text."""

    name: str
    sample_rate: int
    """Sample rate of the 16-bit mono PCM that :meth:`feed` takes (hertz)."""

    def start(self, mode: Mode = "command") -> None:
        """Begin an utterance."""

    def feed(self, pcm: bytes) -> str:
        """Add audio; return the partial transcript so far ('' when none)."""

    def finish(self) -> Transcript:
        """End the utterance and return the final transcript."""

    def transcribe(self, pcm: bytes, mode: Mode = "command") -> Transcript:
        """A whole utterance at once, from the same starting state every time."""


@runtime_checkable
class PhraseListener(Protocol):
    """A recogniser that can also listen for a small set of phrases on their own (PocketSphinx):
    a short utterance gives a search over thousands of phrases little to go on, while among a
    dozen ("skip it", "another one") it is heard far more often."""

    def listen_for(self, name: str, phrases: Iterable[str]) -> None:
        """Prepare the search ``name`` over ``phrases`` (with an open path for other words)."""

    def transcribe_phrases(self, pcm: bytes, name: str) -> Transcript:
        """A whole utterance with the search ``name`` (``command`` mode if there is none)."""


@runtime_checkable
class SecondReading(Protocol):
    """A recogniser that reads a request again with a second engine (:mod:`.twopass`)."""

    def refine(self, pcm: bytes, first: Transcript) -> Transcript:
        """``first`` (this recogniser's streamed reading of ``pcm``) with the second
        engine's reading; the better-read one first, the other as an alternative."""

    def read_twice(self, pcm: bytes) -> Transcript:
        """Both readings of a whole request at once."""

    def read_ahead(self, pcm: bytes | None) -> None:
        """Start the second engine's reading of ``pcm`` now, in the background: the speaker
        has paused, and the request is probably over. :meth:`refine` of the same audio, or
        of it with only silence after it, then takes that reading instead of decoding again.
        ``None``: forget any such reading (speech went on after the pause)."""


@dataclass(frozen=True)
class EngineChoice:
    """Which engine and model :func:`assistant.speech.stt.make_recognizer` would use, and why."""

    engine: str
    """A name in :data:`assistant.speech.stt.ENGINES`."""
    model: Path | None
    """Model directory; None = the engine's bundled model."""
    reason: str


@dataclass(frozen=True)
class Build:
    """What an engine is given to build a recogniser."""

    choice: EngineChoice
    settings: SttSettings
    vocabulary: Vocabulary | None
    """The phrases to bias towards (None: no bias, or an open-vocabulary engine)."""
    user_dict: Path | None
    """The person's pronunciation dictionary (``stt: user_dict``), if any."""
    cache_dir: Path
    """Where an engine may keep what it builds for a pack (nothing private)."""


class Engine(Protocol):
    """What each engine module offers the registry (:data:`assistant.speech.stt.ENGINE_MODULES`):
    module-level functions, so adding an engine is one module and one registry entry."""

    def is_model(self, path: Path) -> bool:
        """Whether ``path`` holds a model of this engine (without loading it)."""

    def default_model(self, language: str) -> Path | None:
        """The model to use for ``language`` when none is named (None: the engine's bundled
        one); :class:`ModelError` saying how to get one when there is none."""

    def preload(self, choice: EngineChoice) -> None:
        """Load ``choice``'s model weights into the engine's per-process cache, where
        :meth:`build` finds them (safe on any thread; errors are raised again by build)."""

    def build(self, request: Build) -> Recognizer:
        """Load the engine and return a recogniser (loads once: reuse it)."""

    def known_words(self, model: Path | None, user_dict: Path | None) -> set[str] | None:
        """The words the engine can recognise with ``model``; None when any can be written
        (an open vocabulary) or when that cannot be told."""

    def vocabulary_report(self, words: set[str], known: set[str] | None,
                          model: Path | None) -> list[str]:
        """Lines for ``intents check``: which of the pack's ``words`` the engine does not
        know and what is done about them."""
