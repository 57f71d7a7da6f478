"""Two readings of one request: the phrase-biased engine, then Whisper.

The phrase engine (PocketSphinx or Vosk, biased towards the pack's phrases) streams: it gives
the partial results, hears the wake phrase and finds the end of speech cheaply. Once a request
is known to be addressed to the assistant, :meth:`TwoPassRecognizer.refine` reads the same
audio again with Whisper, which hears people who say things their own way, and safety
statements the phrase model turns into pack phrases. Whisper's reading comes first and the
phrase reading is kept as an alternative; the dialog decides between them (safety on either
reading, the better match otherwise). Free-form speech (``open`` mode: reflection answers) is
Whisper's alone.

Whisper's reading is the slow part of answering (about 0.4 s for a request on two cores). So
when the speaker pauses mid-request (:meth:`TwoPassRecognizer.read_ahead`, called at the
segmenter's short pause), Whisper starts on the audio so far, while the loop waits out the rest
of the end-of-speech silence; if nobody speaks again, :meth:`~TwoPassRecognizer.refine` takes
that reading, often already done, instead of starting then.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

from .base import Mode, PhraseListener, Recognizer, Transcript
from .whisper import WhisperRecognizer


class TwoPassRecognizer:
    """A phrase engine for streaming, Whisper for the final reading of a request."""

    def __init__(self, phrases: Recognizer, whisper: WhisperRecognizer) -> None:
        self.phrases = phrases
        self.whisper = whisper
        self.name = f"{phrases.name}+whisper"
        self.sample_rate = phrases.sample_rate
        self._mode: Mode = "command"
        self._audio: list[bytes] = []
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper")
        self._ahead: tuple[bytes, Future[Transcript]] | None = None
        """Audio read ahead at a pause, and Whisper's reading of it (done or under way)."""

    def start(self, mode: Mode = "command") -> None:
        self._mode, self._audio = mode, []
        self.phrases.start(mode)

    def feed(self, pcm: bytes) -> str:
        self._audio.append(pcm)
        return self.phrases.feed(pcm)

    def finish(self) -> Transcript:
        """The phrase engine's reading (command mode: :meth:`refine` adds Whisper's once the
        request is known to be for the assistant); Whisper's alone in open mode."""
        first = self.phrases.finish()
        if self._mode == "open":
            return self._open(b"".join(self._audio), first)
        return first

    def transcribe(self, pcm: bytes, mode: Mode = "command") -> Transcript:
        """The phrase reading alone (command mode), or Whisper's (open mode)."""
        if mode == "open":
            return self.whisper.transcribe(pcm, "open")
        return self.phrases.transcribe(pcm, mode)

    def refine(self, pcm: bytes, first: Transcript) -> Transcript:
        """Whisper's reading of ``pcm`` with the phrase reading ``first`` as an alternative;
        ``first`` as it is when Whisper hears no speech. A reading made ahead
        (:meth:`read_ahead`) of the start of ``pcm`` is used when it is all but the silence
        at the end."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and pcm.startswith(ahead[0]):
            return self._combine(first, ahead[1].result())
        return self._combine(first, self.whisper.transcribe(pcm, "open"))

    def read_ahead(self, pcm: bytes | None) -> None:
        """Whisper's reading of ``pcm`` (a request up to a pause), started now in the
        background for :meth:`refine`; ``None`` forgets it (the speaker went on). Only the
        caller knows whether what follows the pause is silence: it calls again at each
        pause, and with ``None`` when speech came after the last one."""
        if self._ahead is not None:
            self._ahead[1].cancel()  # not started yet: no need to
        self._ahead = None if not pcm else (
            pcm, self._pool.submit(self.whisper.transcribe, pcm, "open"))

    def read_twice(self, pcm: bytes) -> Transcript:
        """Both readings of a whole request (``ask --wav``), decoded side by side; nothing
        when the Silero detector hears no speech (noise would cost the phrase engine as long
        to decode as speech of the same length)."""
        if not self.whisper.hears_speech(pcm):
            return Transcript("", 0.0)
        second = self._pool.submit(self.whisper.transcribe, pcm, "open")
        first = self.phrases.transcribe(pcm, "command")
        return self._combine(first, second.result())

    def _combine(self, first: Transcript, second: Transcript) -> Transcript:
        if not second.text:
            return first
        if not first.text or first.text == second.text:
            return second
        return Transcript(second.text, second.confidence, (first.text, *first.alternatives))

    def _open(self, pcm: bytes, first: Transcript) -> Transcript:
        second = self.whisper.transcribe(pcm, "open")
        return second if second.text else first

    # PhraseListener, when the phrase engine is one (a reflection answer's commands)

    def listen_for(self, name: str, phrases: Iterable[str]) -> None:
        if isinstance(self.phrases, PhraseListener):
            self.phrases.listen_for(name, phrases)

    def transcribe_phrases(self, pcm: bytes, name: str) -> Transcript:
        if isinstance(self.phrases, PhraseListener):
            return self.phrases.transcribe_phrases(pcm, name)
        return self.phrases.transcribe(pcm, "command")
