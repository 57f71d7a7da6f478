"""Finding utterances in a stream of microphone audio: where speech starts and ends.

Voice activity is judged on 30 ms frames by WebRTC's detector (``pocketsphinx.Vad``, already a
dependency). Speech starts after a short run of voiced frames (a cough or a click is ignored)
and keeps a little audio from before it; it ends after a configurable silence, so a request
ends quickly while a reflective answer may pause to think.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum


class Event(Enum):
    START = "start"
    """Speech began; the event's audio holds the pre-roll and the first voiced frames."""
    AUDIO = "audio"
    """More audio of the current utterance."""
    PAUSE = "pause"
    """A short silence inside an utterance (``early_end_s``): the caller may decide the
    utterance is complete (:meth:`Segmenter.end_now`) rather than wait for ``end_silence_s``."""
    END = "end"
    """The utterance ended (silence long enough, or the longest utterance reached)."""


@dataclass(frozen=True)
class Segment:
    event: Event
    pcm: bytes = b""


@dataclass(frozen=True)
class SegmenterSettings:
    sample_rate: int = 16000
    """Rate of the 16-bit mono PCM pushed in (hertz)."""
    end_silence_s: float = 0.8
    """Silence that ends an utterance (seconds)."""
    early_end_s: float | None = None
    """A silence this long inside an utterance is reported as a PAUSE (seconds; None: never)."""
    max_utterance_s: float = 15.0
    """An utterance is cut off after this long (seconds)."""
    start_speech_s: float = 0.15
    """Voiced audio needed before speech counts as started (seconds)."""
    pre_roll_s: float = 0.3
    """Audio kept from before the start, so the first syllable is not lost (seconds)."""
    vad_mode: int = 2
    """Aggressiveness of the voice activity detector, 0 (loose) to 3 (strict)."""


class Segmenter:
    """Push audio in blocks of any size; get :class:`Segment` events back."""

    def __init__(self, settings: SegmenterSettings | None = None) -> None:
        from pocketsphinx import Vad

        self.settings = settings or SegmenterSettings()
        self._vad = Vad(mode=self.settings.vad_mode, sample_rate=self.settings.sample_rate)
        self.frame_bytes: int = self._vad.frame_bytes
        self.frame_s: float = self._vad.frame_length
        self._buffer = b""
        self._judge = b""
        self._pre_roll: deque[bytes] = deque(
            maxlen=max(1, round(self.settings.pre_roll_s / self.frame_s)))
        self._voiced_run = 0
        self._silent_run = 0
        self._frames = 0
        self.in_speech = False

    @property
    def silent_s(self) -> float:
        """How long the audio has been silent up to now, inside an utterance or at its end
        (seconds)."""
        return self._silent_run * self.frame_s

    def reset(self) -> None:
        """Forget any partial utterance (for example after the assistant spoke)."""
        self._buffer = self._judge = b""
        self._pre_roll.clear()
        self._voiced_run = self._silent_run = self._frames = 0
        self.in_speech = False

    def end_now(self) -> None:
        """The caller decided the utterance is complete (after a PAUSE)."""
        self.in_speech = False
        self._voiced_run = self._silent_run = 0
        self._pre_roll.clear()

    def set_silences(self, end_silence_s: float, early_end_s: float | None) -> None:
        """Change how much silence ends an utterance and how much is reported as a pause (a
        reflective answer waits longer, and is transcribed phrase by phrase)."""
        from dataclasses import replace

        self.settings = replace(self.settings, end_silence_s=end_silence_s,
                                early_end_s=early_end_s)

    def push(self, pcm: bytes, judge: bytes | None = None) -> list[Segment]:
        """Add audio; ``judge`` (same length) is what voice activity is decided on, when that
        should differ from the audio passed on (a gated copy, say)."""
        self._buffer += pcm
        self._judge += pcm if judge is None else judge
        events: list[Segment] = []
        while len(self._buffer) >= self.frame_bytes:
            frame, self._buffer = self._buffer[: self.frame_bytes], self._buffer[self.frame_bytes :]
            decide, self._judge = self._judge[: self.frame_bytes], self._judge[self.frame_bytes :]
            events.extend(self._frame(frame, decide))
        return _merge(events)

    def _frame(self, frame: bytes, decide: bytes) -> list[Segment]:
        voiced = bool(self._vad.is_speech(decide))
        if not self.in_speech:
            self._pre_roll.append(frame)
            self._voiced_run = self._voiced_run + 1 if voiced else 0
            if self._voiced_run * self.frame_s >= self.settings.start_speech_s:
                self.in_speech = True
                self._silent_run = 0
                self._frames = len(self._pre_roll)
                audio = b"".join(self._pre_roll)
                self._pre_roll.clear()
                return [Segment(Event.START, audio)]
            return []
        self._frames += 1
        self._silent_run = 0 if voiced else self._silent_run + 1
        events = [Segment(Event.AUDIO, frame)]
        early = self.settings.early_end_s
        if early is not None and self._silent_run == max(1, round(early / self.frame_s)):
            events.append(Segment(Event.PAUSE))
        too_long = self._frames * self.frame_s >= self.settings.max_utterance_s
        if self._silent_run * self.frame_s >= self.settings.end_silence_s or too_long:
            self.in_speech = False
            self._voiced_run = 0
            events.append(Segment(Event.END))
        return events


def _merge(events: list[Segment]) -> list[Segment]:
    """Join consecutive AUDIO events into one, to keep callers' work per block small."""
    merged: list[Segment] = []
    for event in events:
        if merged and event.event is Event.AUDIO and merged[-1].event is Event.AUDIO:
            merged[-1] = Segment(Event.AUDIO, merged[-1].pcm + event.pcm)
        else:
            merged.append(event)
    return merged
