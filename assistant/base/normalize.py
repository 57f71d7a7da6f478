"""Text normalisation shared by intent examples and by what people say or type.

Both sides go through :func:`normalize`, so "I'm", "im" and "I am" match alike, and so do
"apologise" / "apologize", "two" / "2", upper and lower case, and punctuation.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from .lang import en

_SPELLING = en.SPELLING
_FILLERS = en.FILLERS
_UNITS = en.UNITS
_TENS = en.TENS
_ORDINALS = en.DIGIT_ORDINALS

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_NON_WORD = re.compile(r"[^a-z0-9:@'_ ]+")
_COLON_NOT_TIME = re.compile(r"(?<!\d):|:(?!\d)")


def normalize(text: str) -> str:
    """Lower-case, fold punctuation, spellings, contractions and number words; one space apart."""
    return " ".join(normalize_tokens(text))


@lru_cache(maxsize=4096)
def _normalize_cached(text: str) -> tuple[str, ...]:
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = _NON_WORD.sub(" ", text.replace("-", " "))
    text = _COLON_NOT_TIME.sub(" ", text)
    words: list[str] = []
    for raw in text.split():
        word = raw.strip("'")
        if not word or word in _FILLERS:
            continue
        words.extend(_expand_word(word))
    return tuple(_numbers_to_digits(words))


def normalize_tokens(text: str) -> tuple[str, ...]:
    """The normalised words of ``text``."""
    return _normalize_cached(text)


@lru_cache(maxsize=65536)
def _expand_word(word: str) -> tuple[str, ...]:
    """One word, contractions expanded and spelling folded (cached: words repeat a lot)."""
    long = en.expanded(word)
    if long is not None:
        return tuple(long.split())
    if word.endswith("'s"):
        word = word[:-2] + "s"
    word = word.replace("'", "")
    return (_SPELLING.get(word, word),) if word else ()


def _numbers_to_digits(words: list[str]) -> list[str]:
    """``twenty five`` -> ``25``, ``nine thirty`` -> ``9 30``, ``a hundred`` -> ``100``."""
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in _TENS:
            value = _TENS[word]
            nxt = words[i + 1] if i + 1 < len(words) else ""
            if nxt in _UNITS and _UNITS[nxt] is not None and 0 < (_UNITS[nxt] or 0) < 10:
                value += _UNITS[nxt] or 0
                i += 1
            out.append(str(value))
        elif word in _UNITS and _UNITS[word] is not None:
            out.append(str(_UNITS[word]))
        elif word == "hundred" and out and out[-1].isdigit() and int(out[-1]) < 10:
            out[-1] = str(int(out[-1]) * 100)
        elif word == "hundred" and out and out[-1] == "a":
            out[-1] = "100"
        elif word in _ORDINALS:
            out.append(_ORDINALS[word])
        else:
            out.append(word)
        i += 1
    return out
