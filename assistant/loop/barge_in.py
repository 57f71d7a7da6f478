"""Speaking a reply while listening over it: the reply plays on its own thread, the microphone
goes through the echo canceller, and speech that is the person's (not the reply's own voice)
cuts the reply short and is handed back as what they said."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator

from ..audio.devices import Audio, Microphone
from ..audio.echo import EchoCanceller, EchoReference
from ..audio.segmenter import Event, Segment, Segmenter, SegmenterSettings
from ..base.config import ListenSettings
from ..base.errors import AssistantError
from ..speech.tts import Speaker
from .events import Utterance

log = logging.getLogger(__name__)

BARGE_IN_SPEECH_S = 0.12
"""Speech over a reply needed to cut the reply short (seconds)."""

Hear = Callable[[Segment], "Utterance | None"]
"""Feeds a piece of speech heard over the reply to the recogniser; the utterance once whole."""


class BargeIn:
    """Plays replies and listens over them (one per voice loop)."""

    def __init__(self, microphone: Microphone, echo: EchoCanceller | None,
                 settings: ListenSettings, sample_rate: int, stopping: threading.Event) -> None:
        self.mic = microphone
        self.echo = echo
        self.settings = settings
        self.sample_rate = sample_rate
        self.stopping = stopping

    def play(self, speaker: Speaker, chunks: Iterator[Audio], hear: Hear,
             meant: Callable[[str], bool]) -> tuple[Utterance | None, AssistantError | None]:
        """Play the reply's ``chunks``; return what the person said over it (None when nothing)
        and the error that stopped the playing, if any. Without an echo canceller nothing is
        heard over a reply. ``meant`` judges speech heard out over a reply whose echo cannot be
        removed exactly: False when it was the reply's own voice. The echo canceller's
        reference is what is played, piece by piece (:class:`EchoReference`)."""
        started = threading.Event()
        failure: list[AssistantError] = []
        reference = EchoReference(self.sample_rate)
        self.mic.flush()

        def playing() -> None:
            try:
                whole = speaker.play(chunks, on_start=started.set, on_queued=reference.put)
                log.debug("reply: %s (%.1f s)", "played to the end" if whole else "cut short",
                          reference.queued_s)
            except AssistantError as exc:
                failure.append(exc)
            finally:
                started.set()

        thread = threading.Thread(target=playing, name="speaking", daemon=True)
        thread.start()
        started.wait(timeout=5)
        log.debug("started speaking")
        if self.echo is not None:
            self.echo.play(b"", time.monotonic())
            reference.feed(self.echo)
        heard = self._listen_over(speaker, thread, reference, hear, meant)
        thread.join()
        if self.echo is not None:
            self.echo.stop()
        return heard, (failure[0] if failure else None)

    def _listen_over(self, speaker: Speaker, playing: threading.Thread,
                     reference: EchoReference, hear: Hear,
                     meant: Callable[[str], bool]) -> Utterance | None:
        """While ``playing`` runs, listen through the echo canceller; speech cuts it short."""
        echo = self.echo
        if echo is None:
            playing.join()
            return None
        detector = Segmenter(SegmenterSettings(
            sample_rate=self.sample_rate, end_silence_s=self.settings.end_silence_s,
            max_utterance_s=self.settings.max_utterance_s, start_speech_s=BARGE_IN_SPEECH_S,
        ))
        interrupted = hearing_out = False
        ended: float | None = None  # when playback ended (the echo's tail may still come)
        while playing.is_alive() or interrupted or self._echo_tail(ended):
            if ended is None and not playing.is_alive():
                ended = time.monotonic()
            block = self.mic.read(timeout=0.05)
            if not interrupted:
                reference.feed(echo)
            if block is None:
                continue
            clean = echo.process(block, time.monotonic())
            judge = clean if interrupted else echo.gate(block, clean)
            for segment in detector.push(clean, judge):
                if segment.event is Event.START and not (interrupted or hearing_out):
                    if echo.moved():  # its own voice, come back at a new delay
                        detector.reset()
                        break
                    if echo.path is None:
                        # an echo that cannot be removed exactly (a room, a stuttering
                        # stream): what is heard may be the reply itself, so hear it out
                        hearing_out = True
                        log.info("barge-in: hearing out speech over the reply (%s)",
                                 echo.state())
                    else:
                        interrupted = True
                        self._cut_short(speaker)
                done = hear(segment)
                if done is None:
                    continue
                if hearing_out and not interrupted:
                    if not meant(done.text):
                        log.info("barge-in: went on speaking over %r (its own voice?)",
                                 done.text)
                        hearing_out = False
                        detector.reset()
                        break
                    self._cut_short(speaker)
                return done
            if self.stopping.is_set():
                return None
        return None

    def _echo_tail(self, ended: float | None) -> bool:
        """Whether the echo of a reply that has finished playing may still be on its way: by
        the microphone samples heard, and at most the echo's delay and a second by the clock
        (an idle sound server may stop sending the microphone anything at all)."""
        assert self.echo is not None
        if not self.echo.echo_pending():
            return False
        return ended is None or time.monotonic() - ended < (self.echo.delay_s or 0.0) + 1.0

    def _cut_short(self, speaker: Speaker) -> None:
        assert self.echo is not None
        speaker.stop()
        self.echo.cut(speaker.player.latency_s)
        log.info("barge-in: stopped speaking (%s)", self.echo.state())
