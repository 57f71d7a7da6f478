"""Checking settings values as the config file is read: numbers within their valid range,
words among their choices, so a setting that makes no sense is refused with what is valid.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import ConfigError

RANGES: dict[str, tuple[float, float, str]] = {
    "matcher.threshold": (0.0, 1.0, "a confidence"),
    "matcher.margin": (0.0, 1.0, "a confidence difference"),
    "matcher.keyword_boost": (0.0, 1.0, "a confidence"),
    "matcher.safety_threshold": (0.0, 1.0, "a similarity"),
    "stt.sample_rate": (8000, 48000, "hertz"),
    "tts.rate": (80, 450, "words per minute"),
    "tts.volume": (0.0, 1.0, "0 is silent, 1 is full volume"),
    "tts.rate_step": (1, 200, "words per minute"),
    "audio.block_ms": (10, 1000, "milliseconds"),
    "listen.follow_up_s": (0.0, 300.0, "seconds"),
    "listen.end_silence_s": (0.1, 10.0, "seconds"),
    "listen.early_end_s": (0.0, 10.0, "seconds"),
    "listen.max_utterance_s": (1.0, 120.0, "seconds"),
    "listen.answer_silence_s": (0.1, 60.0, "seconds"),
    "listen.phrase_break_s": (0.1, 60.0, "seconds"),
    "listen.nudge_after_s": (1.0, 3600.0, "seconds"),
    "listen.answer_max_s": (10.0, 3600.0, "seconds"),
}
"""Setting -> (lowest, highest, unit) of the values that make sense."""

CHOICES: dict[str, tuple[str, ...]] = {
    "stt.engine": ("auto", "pocketsphinx", "vosk", "whisper"),
    "tts.engine": ("auto", "piper", "pyttsx3", "festival"),
}
"""Setting -> the words it accepts."""

NOT_EMPTY = ("listen.wake_phrase",)
"""Text settings that cannot be empty."""


def check_value(name: str, value: Any, label: str) -> None:
    """Raise :class:`ConfigError` if setting ``name`` ("section.key") cannot be ``value``;
    ``label`` (file and setting) starts the message."""
    if name in RANGES and value is not None:
        low, high, unit = RANGES[name]
        number = float(value)
        if not math.isfinite(number) or not low <= number <= high:
            shown = "not a number" if math.isnan(number) else "out of range"
            raise ConfigError(f"{label}: {number:g} is {shown}: use a value from "
                              f"{_plain(low)} to {_plain(high)} ({unit})")
    if name in CHOICES and value is not None and value not in CHOICES[name]:
        raise ConfigError(f"{label}: unknown value {value!r}: use one of "
                          f"{', '.join(CHOICES[name])}")
    if name in NOT_EMPTY and not str(value).strip():
        raise ConfigError(f"{label}: cannot be empty: give a short phrase")


def _plain(number: float) -> str:
    return f"{number:g}"
