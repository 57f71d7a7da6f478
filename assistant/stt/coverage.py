"""Which words of an intent pack a phrase-model engine can recognise (for ``intents check``).

Knows each engine's word list (PocketSphinx's dictionary, a Vosk model's words), so the
vocabulary module itself stays free of engines: engines import it, not the other way round.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from .pocketsphinx import dictionary_path, missing_report, read_dictionary_words
from .vocabulary import Vocabulary
from .vosk import missing_report as vosk_report
from .vosk import model_words

if TYPE_CHECKING:
    from ..intents import IntentPack


def known_words(engine: str, model: Path | None = None,
                user_dict: Path | None = None) -> set[str] | None:
    """The words ``engine`` can recognise with ``model``; None when that cannot be told
    (a Vosk model without a word list)."""
    if engine == "pocketsphinx":
        words = read_dictionary_words(dictionary_path(model))
        return words | (read_dictionary_words(user_dict) if user_dict else set())
    if engine == "vosk":
        return model_words(model) if model is not None else None
    raise ValueError(f"unknown engine {engine!r}")


def missing_words(
    pack: IntentPack | None,
    engine: str,
    model: Path | None = None,
    extra_phrases: Iterable[str] = (),
    user_dict: Path | None = None,
) -> list[str]:
    """Words of ``pack`` (and ``extra_phrases``) that ``engine`` with ``model`` does not know,
    sorted; empty when every word is known or when the model has no word list."""
    known = known_words(engine, model, user_dict)
    if known is None:
        return []
    return sorted(Vocabulary.from_pack(pack, extra_phrases).words() - known)


def report(
    pack: IntentPack | None,
    engine: str,
    model: Path | None = None,
    extra_phrases: Iterable[str] = (),
    user_dict: Path | None = None,
) -> list[str]:
    """Human-readable lines on the pack's words that ``engine`` does not know, and what the
    recogniser does about them (for ``intents check``)."""
    vocabulary = Vocabulary.from_pack(pack, extra_phrases)
    words = vocabulary.words()
    known = known_words(engine, model, user_dict)
    if engine == "pocketsphinx":
        return missing_report(sorted(words - (known or set())), len(words))
    return vosk_report(None if known is None else sorted(words - known), len(words), model)
