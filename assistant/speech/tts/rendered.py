"""The sentences the assistant can say, spoken once and kept: a known reply plays at once.

The voice loop makes a whole reply before playing it (made sentence by sentence while it
played, the assistant's own voice came through the echo canceller on a small machine), so a
long reply waited a second or more for its first sound. The sentences of the pack's replies
and prompts, of the safety reply and of the assistant's messages are known in advance: each
is synthesised the first time it is said (or all of them by ``trust-assistant listen
--prepare``), kept as FLAC in the cache directory, and read back the next time (a few
milliseconds).

Only those known sentences are kept. Anything else (a sentence with what the person said in
it, a time they chose) is synthesised each time and never written down. The key is the engine,
voice, rate, volume and sentence, so "slower" or another voice makes new files.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import soundfile

from ...audio.devices import Audio
from ...base.storage import replacing
from .base import first_clause
from .text import sentences

log = logging.getLogger(__name__)


def pieces(text: str) -> list[str]:
    """What a sentence engine speaks one at a time for ``text``: its sentences, and each
    sentence's first clause and the rest (the first sentence of a reply is spoken in two)."""
    found: list[str] = []
    for sentence in sentences(text):
        found.append(sentence)
        head = first_clause(sentence)
        if head is not None:
            found += [head, sentence[len(head):].strip()]
    return found


class KeptSentences:
    """Known sentences as audio, made once per voice and kept in ``directory``."""

    def __init__(self, texts: Iterable[str], directory: Path) -> None:
        self.texts = sorted({t for t in texts if t.strip()})
        self.known = frozenset(p for t in self.texts for p in pieces(t))
        self.directory = directory
        self.writable = True
        self.made = 0
        """Sentences synthesised (and kept) by this object."""

    def path(self, voice: str, sentence: str) -> Path:
        key = hashlib.sha256(f"{voice}\0{sentence}".encode()).hexdigest()[:32]
        return self.directory / f"{key}.flac"

    def audio(self, voice: str, sentence: str, make: Callable[[str], Audio]) -> Audio:
        """``sentence`` in ``voice`` (engine, voice, rate and volume in one string): read back
        when kept, else ``make(sentence)``, kept when the sentence is a known one."""
        if sentence not in self.known:
            return make(sentence)
        path = self.path(voice, sentence)
        if path.is_file():
            try:
                samples, rate = soundfile.read(path, dtype="int16")
                return Audio(np.ascontiguousarray(samples).tobytes(), int(rate))
            except (OSError, RuntimeError, ValueError) as error:  # damaged: made again
                log.warning("the kept sentence %s could not be read (%s); making it again",
                            path, error)
        made = make(sentence)
        self.made += 1
        self._keep(made, path)
        return made

    def _keep(self, made: Audio, path: Path) -> None:
        if not made.pcm or not self.writable:
            return
        try:
            with replacing(path) as temporary:
                soundfile.write(temporary, made.samples(), made.sample_rate, format="FLAC",
                                subtype="PCM_16")
        except (OSError, RuntimeError) as error:
            self.writable = False  # said once; sentences are then made each time
            log.warning("spoken sentences cannot be kept in %s (%s); each is made when it is "
                        "said", self.directory, error)
