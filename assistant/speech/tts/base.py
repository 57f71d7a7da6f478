"""What every speech engine shares: the :class:`Synthesizer` protocol, voices, and speaking
sentence by sentence with a short pause between sentences."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ...audio.devices import Audio
from ...base.errors import ConfigError, EngineError
from .text import sentences

MIN_RATE = 80
"""Slowest speaking rate (words per minute)."""
MAX_RATE = 450
"""Fastest speaking rate (words per minute)."""
PAUSE_S = 0.2
"""Silence between two sentences (seconds)."""
CLAUSE_PAUSE_S = 0.12
"""Silence after the first clause of a long first sentence, spoken on its own (seconds)."""
CLAUSE_SPLIT_WORDS = 6
"""A first sentence longer than this (words) has its first clause spoken on its own."""
EDGE_S = 0.03
"""Quiet kept before and after the sound of a sentence (seconds): engines add their own
silence at both ends (Piper about a quarter of a second at the end), which is cut to this."""
QUIET_RMS = 100.0
"""A 10 ms frame quieter than this (16-bit RMS) is silence at the edges of a sentence."""


@dataclass(frozen=True)
class Voice:
    """A voice the engine offers."""

    id: str
    """What to put in ``tts.voice`` (e.g. ``gmw/en-us`` for espeak-ng)."""
    name: str
    languages: tuple[str, ...] = ()
    gender: str | None = None


class Synthesizer(Protocol):
    """Turns text into speech audio; voice, rate and volume can change between replies."""

    name: str
    """The engine (``piper``, ``pyttsx3``)."""

    @property
    def voice(self) -> str | None:
        """Id of the current voice; None = the engine's default."""

    @property
    def rate(self) -> int:
        """Speaking rate (words per minute)."""

    @property
    def volume(self) -> float:
        """Volume (0..1)."""

    def set_voice(self, voice: str | None) -> str | None:
        """Use ``voice`` (id, name or language); return its id; EngineError if unknown."""

    def set_rate(self, wpm: int) -> int:
        """Speak at ``wpm`` words per minute (clamped to the engine's range); return it."""

    def set_volume(self, volume: float) -> float:
        """Speak at ``volume`` (0..1); return it."""

    def voices(self) -> list[Voice]:
        """The voices available."""

    def synthesize(self, text: str) -> Audio:
        """``text`` as 16-bit mono speech, all of it."""

    def stream(self, text: str) -> Iterator[Audio]:
        """``text`` as speech, one sentence at a time (each but the last followed by
        :data:`PAUSE_S` of silence): playing can start after the first."""


class SentenceStore(Protocol):
    """Where sentences already spoken are kept (:class:`.rendered.KeptSentences`)."""

    def audio(self, voice: str, sentence: str, make: Callable[[str], Audio]) -> Audio:
        """``sentence`` in ``voice`` (engine, voice, rate, volume): kept, or ``make``-d."""
        ...


class SentenceSynthesizer:
    """Speaks cleaned text (:func:`.text.sentences`) sentence by sentence through
    :meth:`speak_sentence`, which an engine provides."""

    sample_rate = 22050
    """Rate of the audio of an empty text (hertz); engines update it."""
    rate_range = (MIN_RATE, MAX_RATE)
    """The speaking rates (words per minute) the engine can make."""
    _rate = 175
    _volume = 1.0
    kept: SentenceStore | None = None
    """Known sentences already spoken (:class:`.rendered.KeptSentences`); None: make each."""

    @property
    def rate(self) -> int:
        return self._rate

    @property
    def volume(self) -> float:
        return self._volume

    def set_rate(self, wpm: int) -> int:
        self._rate = clamp_rate(wpm, *self.rate_range)
        return self._rate

    def set_volume(self, volume: float) -> float:
        self._volume = check_volume(volume)
        return self._volume

    @property
    def voice_identity(self) -> str:
        """What tells this voice's recordings from another's in the kept sentences: its id,
        and for a voice made from a file, that file's size and time (a voice replaced under
        the same id is recorded again)."""
        return str(getattr(self, "voice", None))

    def speak_sentence(self, sentence: str) -> Audio:
        raise NotImplementedError

    def stream(self, text: str) -> Iterator[Audio]:
        parts = sentences(text)
        pauses = [PAUSE_S] * len(parts)
        if parts:
            head = first_clause(parts[0])
            if head is not None:
                parts[:1] = [head, parts[0][len(head):].strip()]
                pauses.insert(0, CLAUSE_PAUSE_S)
        voice = f"{type(self).__name__}\0{self.voice_identity}\0{self._rate}\0" \
                f"{self._volume:.3f}"
        for index, sentence in enumerate(parts):
            spoken = (self.kept.audio(voice, sentence, self.speak_sentence)
                      if self.kept is not None else self.speak_sentence(sentence))
            audio = trim(spoken)
            self.sample_rate = audio.sample_rate
            if index < len(parts) - 1:
                audio = Audio(audio.pcm + bytes(2 * round(pauses[index] * audio.sample_rate)),
                              audio.sample_rate)
            yield audio

    def synthesize(self, text: str) -> Audio:
        pieces = list(self.stream(text))
        if not pieces:
            return Audio(b"", self.sample_rate)
        return Audio(b"".join(p.pcm for p in pieces), pieces[0].sample_rate)


def first_clause(sentence: str) -> str | None:
    """The first clause of a long sentence ("If you let a friend down," of a sentence of 30
    words), to be spoken on its own so that speech starts sooner; None when there is none."""
    words = sentence.split()
    if len(words) <= CLAUSE_SPLIT_WORDS:
        return None
    for index, word in enumerate(words[:-3], start=1):
        if word[-1] in ",;:":
            return " ".join(words[:index])
    return None


def trim(audio: Audio) -> Audio:
    """``audio`` without its silent edges, but :data:`EDGE_S` of them."""
    frame = max(audio.sample_rate // 100, 1)
    samples = audio.samples()
    count = len(samples) // frame
    if count == 0:
        return audio
    frames = samples[: count * frame].astype(np.float64).reshape(count, frame)
    loud = np.flatnonzero(np.sqrt((frames ** 2).mean(axis=1)) > QUIET_RMS)
    if not loud.size:
        return audio
    edge = round(EDGE_S * audio.sample_rate)
    start = max(int(loud[0]) * frame - edge, 0)
    end = min((int(loud[-1]) + 1) * frame + edge, len(samples))
    return Audio(audio.pcm[2 * start : 2 * end], audio.sample_rate)


def clamp_rate(wpm: int, low: int = MIN_RATE, high: int = MAX_RATE) -> int:
    return max(low, min(high, int(wpm)))


def check_volume(volume: float) -> float:
    if not 0.0 <= volume <= 1.0:
        raise ConfigError(f"tts volume must be between 0 and 1, got {volume}")
    return float(volume)


def find_voice(spec: str, voices: list[Voice]) -> Voice:
    """The voice ``spec`` names: an id, the id's last part, a name or a language (any case)."""
    found = find_voice_or_none(spec, voices)
    if found is not None:
        return found
    sample = ", ".join(v.id for v in voices[:5])
    raise EngineError(
        f"unknown voice '{spec}' (e.g. {sample}); list them with: trust-assistant say --list-voices"
    )


def find_voice_or_none(spec: str, voices: list[Voice], *, languages: bool = True) -> Voice | None:
    """As :func:`find_voice`, None when no voice matches; ``languages``: also by language."""
    wanted = spec.strip().lower()
    keys = (_voice_ids, _voice_short_ids, _voice_names, *((_voice_languages,) if languages else ()))
    for key in keys:
        for voice in voices:
            if wanted in key(voice):
                return voice
    return None


def _voice_ids(voice: Voice) -> list[str]:
    return [voice.id.lower()]


def _voice_short_ids(voice: Voice) -> list[str]:
    return [voice.id.lower().replace("\\", "/").rsplit("/", 1)[-1]]


def _voice_names(voice: Voice) -> list[str]:
    return [voice.name.lower()]


def _voice_languages(voice: Voice) -> list[str]:
    return [lang.lower().replace("_", "-") for lang in voice.languages]


def read_speech_file(path: Path) -> Audio:
    """The engine's output file (WAV in any layout, or AIFF from NSSpeech) as 16-bit mono
    audio, read with libsndfile (``soundfile``)."""
    import soundfile

    try:
        frames, rate = soundfile.read(str(path), dtype="int16", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
        raise EngineError(f"cannot read the speech engine's output: {exc}") from None
    mono = frames[:, 0] if frames.shape[1] == 1 else frames.mean(axis=1)
    return Audio(np.asarray(mono, dtype="<i2").tobytes(), int(rate))
