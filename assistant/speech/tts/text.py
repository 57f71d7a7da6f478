"""Text as it should be read aloud: no markup or symbols, times and phone numbers said the way
people say them, and split into sentences so that speech can start after the first one.
"""

from __future__ import annotations

import re
from datetime import time as dtime

from ...base.lang.en import spoken_time

__all__ = ["clean", "sentences"]

_MARKUP = [
    (re.compile(r"<[^<>\n]{1,80}>"), " "),                         # <b>, <speak>, </i>
    (re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)"), r"\1"),             # [text](link)
    (re.compile(r"(?:https?://|www\.)\S*[^\s.,;:!?)]"), "the link"),
    (re.compile(r"(?<=\w)/(?=[A-Za-z])"), " or "),                 # he/she
    (re.compile(r"\s*&\s*"), " and "),
    (re.compile(r"(?<=\d)\s*%"), " percent"),
    (re.compile(r"\s+[\u2013\u2014]\s+|\s*\u2014\s*|\s+-{1,2}\s+"), ", "),  # dashes as a pause
    (re.compile(r"\.{2,}|\u2026"), "."),
    (re.compile(r"[*_#~^|`<>{}\[\]\\=@]+"), " "),                  # markup and symbols
    (re.compile(r"[\u201c\u201d\"]"), ""),
    (re.compile(r"[\u2018\u2019]"), "'"),
]
_CLOCK = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b(?!\s*[ap]\.?m\b)", re.IGNORECASE)
_AM_PM = re.compile(
    r"\b(\d{1,2})(?::([0-5]\d))?\s*([ap])\.?\s?m\b(?:\.(?=\s+(?-i:[a-z])))?", re.IGNORECASE)
_NUMBERS = re.compile(r"(?<![\d.,:])\d+(?:[ -]\d+)*(?![\d:]|[.,]\d)")
_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:!?])")

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_NOT_AN_END = re.compile(
    r"(?:\b[A-Z]|\b(?:Dr|Mr|Mrs|Ms|Prof|St|vs|etc|e\.g|i\.e|approx|No))\.$")


def clean(text: str) -> str:
    """``text`` with markup and symbols removed, clock times as spoken ("21:00" -> "9 p m")
    and phone and emergency numbers digit by digit ("988" -> "9 8 8")."""
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    text = _CLOCK.sub(_clock, text)
    text = _AM_PM.sub(_am_pm, text)
    text = _NUMBERS.sub(_numbers, text)
    text = _SPACE_BEFORE_PUNCTUATION.sub(r"\1", _SPACES.sub(" ", text))
    return re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text).strip(" ,;:")


def _clock(match: re.Match[str]) -> str:
    return spoken_time(dtime(int(match.group(1)), int(match.group(2))))


def _am_pm(match: re.Match[str]) -> str:
    hour, minute, half = int(match.group(1)), match.group(2), match.group(3).lower()
    if minute is None or minute == "00":
        said = str(hour)
    elif minute.startswith("0"):
        said = f"{hour} oh {int(minute)}"
    else:
        said = f"{hour} {minute}"
    return f"{said} {half} m"


def _numbers(match: re.Match[str]) -> str:
    """Numbers of three digits, of five or more, and four-digit numbers that are not years
    are phone or emergency numbers here: said digit by digit ("911", "1737", "116 123" as
    "1 1 6, 1 2 3"); "13 11 14" and years stay numbers."""
    groups = re.split(r"[ -]", match.group(0))
    if not any(_is_phone(group) for group in groups):
        return match.group(0)
    return ", ".join(" ".join(group) for group in groups)


def _is_phone(digits: str) -> bool:
    return len(digits) >= 3 and not (len(digits) == 4 and 1800 <= int(digits) <= 2099)


def sentences(text: str) -> list[str]:
    """``text`` cleaned (:func:`clean`) and split into sentences; initials ("J. L. Winek") and
    abbreviations ("Dr.") do not end one."""
    parts: list[str] = []
    start = 0
    cleaned = clean(text)
    for match in _SENTENCE_END.finditer(cleaned):
        candidate = cleaned[start:match.start()].strip()
        if _NOT_AN_END.search(candidate):
            continue
        if candidate:
            parts.append(candidate)
        start = match.end()
    rest = cleaned[start:].strip()
    if rest:
        parts.append(rest)
    return [part for part in parts if any(c.isalnum() for c in part)]
