"""How a turn starts (:data:`Wake`), and finding the wake phrase at the start of what was
heard (:func:`split_wake`)."""

from __future__ import annotations

from typing import Literal

from rapidfuzz import fuzz

from ..base.normalize import normalize

Wake = Literal["wake", "push_to_talk", "always"]
"""How a turn starts: the wake phrase, Enter on the keyboard, or any speech at all."""

WAKE_SIMILARITY = 75.0
"""How close (0..100) the first words must be to the wake phrase."""


def split_wake(text: str, wake_phrase: str) -> tuple[bool, str]:
    """(whether ``text`` starts with the wake phrase, the normalised rest of it).

    Recognisers often mishear the short first word ("hey coach" -> "do you coach", "a
    coach"), so the phrase also counts when its last, most distinctive word is among the first
    few words.
    """
    words, wake = normalize(text).split(), normalize(wake_phrase).split()
    size = len(wake)
    if not wake:
        return False, " ".join(words)
    for length in (size, size + 1, size - 1):
        if 0 < length <= len(words) and fuzz.ratio(" ".join(words[:length]), " ".join(wake)) >= (
            WAKE_SIMILARITY
        ):
            return True, " ".join(words[length:])
    if size > 1:
        for index, word in enumerate(words[: size + 1]):
            if fuzz.ratio(word, wake[-1]) >= WAKE_SIMILARITY:
                return True, " ".join(words[index + 1 :])
    return False, " ".join(words)
