"""Offline speech recognition: the engines' registry.

Each engine is one module (:mod:`.pocketsphinx`, :mod:`.vosk`, :mod:`.whisper`) that offers the
functions of :class:`~.base.Engine` and imports its library lazily, so text-only commands
start fast and a missing library is reported by name. Adding an engine is that module and one
entry in :data:`ENGINE_MODULES`. Build recognisers with :func:`make_recognizer`; the dialog and
the matcher never import an engine, and engines never import this registry.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from ...base.config import cache_dir as config_cache_dir
from ...base.errors import EngineError, ModelError
from .base import (
    Build,
    Engine,
    EngineChoice,
    Mode,
    PhraseListener,
    Recognizer,
    SecondReading,
    Transcript,
)

if TYPE_CHECKING:
    from ...base.config import SttSettings
    from ...pack.intents import IntentPack

ENGINE_MODULES = {"pocketsphinx": ".pocketsphinx", "vosk": ".vosk", "whisper": ".whisper"}
"""The speech engines: name -> the module that implements it (imported only when used)."""
ENGINES = ("auto", *ENGINE_MODULES)
"""Values of ``settings.engine``."""
FALLBACK = "pocketsphinx"
"""``auto`` without an installed model: the engine with a bundled (US English) model."""
PREFERRED = ("vosk",)
"""``auto``: engines used before the fallback when a model of theirs is installed for the
pack's language."""
SECOND_READER = "whisper"
"""``auto``: the engine that reads each request a second time, when it is installed."""


def engine(name: str) -> Engine:
    """The module of engine ``name`` (:class:`EngineError` naming the choices if unknown)."""
    if name not in ENGINE_MODULES:
        raise EngineError(
            f"unknown speech engine '{name}' (choose one of: {', '.join(ENGINES)})")
    return cast(Engine, importlib.import_module(ENGINE_MODULES[name], __package__))


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
    recognizer = engine(choice.engine).build(
        Build(choice, settings, vocabulary, _user_dict(settings), cache_dir()))
    if choice.engine == SECOND_READER:
        return recognizer
    return _with_second_reading(recognizer, settings, pack)


def preload(settings: SttSettings, language: str = "en") -> None:
    """Load the model weights :func:`make_recognizer` will use (its engine's, and the second
    reader's) into the engines' per-process caches, where it finds them. Called on a
    background thread at start-up, so that weights (which load outside Python's lock) load
    while the pack does; errors are raised, and raised again by :func:`make_recognizer`."""
    choice = choose_engine(settings, language)
    engine(choice.engine).preload(choice)
    if _second_reader_wanted(settings, language) and choice.engine != SECOND_READER:
        from . import whisper

        if whisper.available():
            whisper.preload(EngineChoice(SECOND_READER, None, "second reading"))


def _second_reader_wanted(settings: SttSettings, language: str) -> bool:
    return settings.engine == "auto" and settings.second_pass and language.startswith("en")


def _with_second_reading(
    recognizer: Recognizer, settings: SttSettings, pack: IntentPack | None
) -> Recognizer:
    """``recognizer`` with Whisper's second reading of each request, when ``engine: auto``
    and Whisper is installed for the pack's language (English)."""
    if not _second_reader_wanted(settings, pack.language if pack is not None else "en"):
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
    name = settings.engine
    if name not in ENGINES:
        raise EngineError(
            f"unknown speech engine '{name}' (choose one of: {', '.join(ENGINES)})"
        )
    model = _resolve(settings.model) if settings.model else None
    if name != "auto":
        return EngineChoice(name, model or engine(name).default_model(language), "asked for")
    return _auto(model, language)


def _auto(model: Path | None, language: str) -> EngineChoice:
    others = [name for name in ENGINE_MODULES if name != FALLBACK]
    if model is not None:
        for name in others:
            if engine(name).is_model(model):
                return EngineChoice(name, model, f"{model} is a {name} model")
        return EngineChoice(FALLBACK, model,
                            f"{model} is not a {' or '.join(others)} model")
    for name in PREFERRED:
        try:
            installed = engine(name).default_model(language)
        except ModelError:
            continue
        return EngineChoice(name, installed, f"a {name} model for '{language}' is installed")
    if not language.startswith("en"):
        raise ModelError(
            f"the intent pack is in '{language}', but PocketSphinx only has English and no "
            f"Vosk model for '{language}' is installed; install one with: "
            "trust-assistant models install NAME (see 'trust-assistant models list')"
        )
    return EngineChoice(FALLBACK, None, "no Vosk model installed for this language")


def _resolve(name_or_path: str) -> Path:
    """A model directory from a path or an installed model name (ModelError otherwise)."""
    path = Path(name_or_path).expanduser()
    if path.exists():
        return path
    from ..models import resolve_model

    return resolve_model(name_or_path)


def _user_dict(settings: SttSettings) -> Path | None:
    value = getattr(settings, "user_dict", None)
    return Path(str(value)).expanduser() if value else None


def known_words(name: str, model: Path | None = None,
                user_dict: Path | None = None) -> set[str] | None:
    """The words engine ``name`` can recognise with ``model``; None when any can be written
    or when that cannot be told (a Vosk model without a word list)."""
    return engine(name).known_words(model, user_dict)


def missing_words(
    pack: IntentPack | None, name: str, model: Path | None = None,
    extra_phrases: Iterable[str] = (), user_dict: Path | None = None,
) -> list[str]:
    """Words of ``pack`` (and ``extra_phrases``) that engine ``name`` with ``model`` does not
    know, sorted; empty when every word is known or when that cannot be told."""
    from .vocabulary import Vocabulary

    known = known_words(name, model, user_dict)
    if known is None:
        return []
    return sorted(Vocabulary.from_pack(pack, extra_phrases).words() - known)


def coverage_report(
    pack: IntentPack | None, name: str, model: Path | None = None,
    extra_phrases: Iterable[str] = (), user_dict: Path | None = None,
) -> list[str]:
    """Lines on the pack's words that engine ``name`` does not know, and what the recogniser
    does about them."""
    from .vocabulary import Vocabulary

    words = Vocabulary.from_pack(pack, extra_phrases).words()
    module = engine(name)
    return module.vocabulary_report(words, module.known_words(model, user_dict), model)


def vocabulary_report(
    settings: SttSettings,
    pack: IntentPack | None,
    extra_phrases: Iterable[str] = (),
) -> list[str]:
    """Lines for ``intents check``: which words of the pack the configured engine does not
    know, and what is done about them. Does not load the engine."""
    try:
        choice = choose_engine(settings, pack.language if pack is not None else "en")
    except (EngineError, ModelError) as exc:
        return [f"speech vocabulary not checked: {exc.format_message()}"]
    return coverage_report(pack, choice.engine, choice.model, extra_phrases,
                           _user_dict(settings))


__all__ = [
    "ENGINES", "ENGINE_MODULES", "Engine", "EngineChoice", "Mode", "PhraseListener",
    "Recognizer", "SecondReading", "Transcript", "cache_dir", "choose_engine", "coverage_report",
    "engine", "known_words", "make_recognizer", "missing_words", "vocabulary_report",
]
