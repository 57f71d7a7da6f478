"""Offline speech recognition behind one small protocol.

Each engine lives in its own module (:mod:`.pocketsphinx`, :mod:`.vosk`, :mod:`.whisper`) and
imports its library lazily, so text-only commands start fast and a missing library is reported
by name.
Build engines with :func:`make_recognizer`; the dialog and the matcher never import an engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ..config import cache_dir as config_cache_dir
from ..errors import EngineError, ModelError
from .base import Mode, PhraseListener, Recognizer, SecondReading, Transcript

if TYPE_CHECKING:
    from ..config import SttSettings
    from ..intents import IntentPack

ENGINES = ("auto", "pocketsphinx", "vosk", "whisper")
"""Values of ``settings.engine``."""


@dataclass(frozen=True)
class EngineChoice:
    """Which engine and model :func:`make_recognizer` would use, and why."""

    engine: Literal["pocketsphinx", "vosk", "whisper"]
    model: Path | None
    """Model directory; None = PocketSphinx's bundled model."""
    reason: str


def make_recognizer(
    settings: SttSettings,
    pack: IntentPack | None = None,
    extra_phrases: Iterable[str] = (),
    prefixes: Iterable[str] = (),
) -> Recognizer:
    """The recogniser ``settings`` ask for, biased towards ``pack`` and ``extra_phrases``
    unless ``settings.bias`` is off; ``prefixes`` (the wake phrase) are expected before any
    of those, or alone. Loads the engine: call it once and reuse the recogniser. Raises
    :class:`EngineError` or :class:`ModelError`."""
    choice = choose_engine(settings, pack.language if pack is not None else "en")
    vocabulary = None
    extra_phrases, prefixes = tuple(extra_phrases), tuple(prefixes)
    if settings.bias and (pack is not None or extra_phrases or prefixes):
        from .vocabulary import Vocabulary

        vocabulary = Vocabulary.from_pack(pack, extra_phrases, prefixes)
    if choice.engine == "vosk" and choice.model is not None:
        from .vosk import VoskRecognizer

        return _with_second_reading(
            VoskRecognizer(choice.model, vocabulary, sample_rate=settings.sample_rate),
            settings, pack)
    if choice.engine == "whisper":
        from .whisper import WhisperRecognizer

        return WhisperRecognizer(choice.model)
    from .pocketsphinx import PocketSphinxRecognizer

    recognizer: Recognizer = PocketSphinxRecognizer(
        vocabulary, model_dir=choice.model, user_dict=_user_dict(settings),
        cache_dir=cache_dir(),
    )
    return _with_second_reading(recognizer, settings, pack)


def _with_second_reading(
    recognizer: Recognizer, settings: SttSettings, pack: IntentPack | None
) -> Recognizer:
    """``recognizer`` with Whisper's second reading of each request, when ``engine: auto``
    and Whisper is installed for the pack's language (English)."""
    language = pack.language if pack is not None else "en"
    if settings.engine != "auto" or not settings.second_pass or not language.startswith("en"):
        return recognizer
    from . import whisper

    if not whisper.available():
        return recognizer
    from .twopass import TwoPassRecognizer

    return TwoPassRecognizer(recognizer, whisper.WhisperRecognizer(whisper.default_model_dir()))


def cache_dir() -> Path:
    """Where recognisers keep what they build for an intent pack: nothing private, only
    models of the pack's phrases (``stt/`` in :func:`config.cache_dir`)."""
    return config_cache_dir() / "stt"


def choose_engine(settings: SttSettings, language: str = "en") -> EngineChoice:
    """The engine and model for ``settings`` and a pack in ``language``, without loading."""
    engine = settings.engine
    if engine not in ENGINES:
        raise EngineError(
            f"unknown speech engine '{engine}' (choose one of: {', '.join(ENGINES)})"
        )
    model = _resolve(settings.model) if settings.model else None
    if engine == "pocketsphinx":
        return EngineChoice("pocketsphinx", model, "asked for")
    if engine == "vosk":
        model = model or _installed_vosk_model(language)
        if model is None:
            raise ModelError(
                f"no Vosk model for language '{language}' is installed; install one with: "
                "trust-assistant models install vosk-model-small-en-us-0.15 (or pass --model DIR)"
            )
        return EngineChoice("vosk", model, "asked for")
    if engine == "whisper":
        return EngineChoice("whisper", model or _whisper_model(language), "asked for")
    return _auto(model, language)


def _auto(model: Path | None, language: str) -> EngineChoice:
    from .vosk import is_vosk_model
    from .whisper import is_whisper_model

    if model is not None:
        if is_vosk_model(model):
            return EngineChoice("vosk", model, f"{model} is a Vosk model")
        if is_whisper_model(model):
            return EngineChoice("whisper", model, f"{model} is a Whisper model")
        return EngineChoice("pocketsphinx", model, f"{model} is not a Vosk or Whisper model")
    installed = _installed_vosk_model(language)
    if installed is not None:
        return EngineChoice("vosk", installed, f"a Vosk model for '{language}' is installed")
    if not language.startswith("en"):
        raise ModelError(
            f"the intent pack is in '{language}', but PocketSphinx only has English and no "
            f"Vosk model for '{language}' is installed; install one with: "
            "trust-assistant models install NAME (see 'trust-assistant models list')"
        )
    return EngineChoice("pocketsphinx", None, "no Vosk model installed for this language")


def _resolve(name_or_path: str) -> Path:
    """A model directory from a path or an installed model name (ModelError otherwise)."""
    path = Path(name_or_path).expanduser()
    if path.exists():
        return path
    from ..models import resolve_model

    return resolve_model(name_or_path)


def _installed_vosk_model(language: str) -> Path | None:
    """The first installed Vosk model for ``language`` (None when there is none)."""
    from ..models import models_for_language

    installed = models_for_language(language.split("-")[0], engine="vosk")
    return installed[0].path if installed else None


def _whisper_model(language: str) -> Path:
    """The Whisper model to use without ``--model``: the largest installed for ``language``
    (one installs a bigger model to use it), else the bundled ``tiny.en``."""
    from ..models import models_for_language
    from .whisper import default_model_dir

    installed = models_for_language(language.split("-")[0], engine="whisper")
    if installed:
        return max(installed, key=lambda m: (m.path / "model.bin").stat().st_size).path
    if not language.startswith("en"):
        raise ModelError(
            f"the intent pack is in '{language}', but the bundled Whisper model is English "
            "only; install a Whisper model for it and pass --model DIR"
        )
    return default_model_dir()


def _user_dict(settings: SttSettings) -> Path | None:
    value = getattr(settings, "user_dict", None)
    return Path(str(value)).expanduser() if value else None


def vocabulary_report(
    settings: SttSettings,
    pack: IntentPack | None,
    extra_phrases: Iterable[str] = (),
) -> list[str]:
    """Lines for ``intents check``: which words of the pack the configured engine does not
    know, and what is done about them. Does not load the engine."""
    from . import coverage

    try:
        choice = choose_engine(settings, pack.language if pack is not None else "en")
    except (EngineError, ModelError) as exc:
        return [f"speech vocabulary not checked: {exc.format_message()}"]
    if choice.engine == "whisper":
        return [f"whisper ({choice.model}): open vocabulary, every word of the intent pack can "
                "be written; the pack's phrases do not bias it"]
    return coverage.report(pack, choice.engine, choice.model, extra_phrases,
                             _user_dict(settings))


__all__ = [
    "ENGINES", "EngineChoice", "Mode", "PhraseListener", "Recognizer", "SecondReading",
    "Transcript", "cache_dir", "choose_engine", "make_recognizer", "vocabulary_report",
]
