"""Hearing one utterance: the segmenter's pieces of speech fed to the recogniser, a request
ended early at a pause when it is already whole, and free-form answers decoded phrase by phrase
(with the answer's own commands, "I'm done", listened for in each short phrase)."""

from __future__ import annotations

import logging
import time

from ..audio.segmenter import Event, Segment, Segmenter
from ..base.normalize import normalize
from ..dialog.manager import Dialog
from ..speech.stt import Mode, PhraseListener, Recognizer, SecondReading, Transcript
from .events import LoopEvents, Utterance
from .wake import split_wake

log = logging.getLogger(__name__)

EARLY_END_CONFIDENCE = 0.75
"""A partial transcript matching an intent this well ends the utterance at the first pause."""
COMMAND_PHRASE_S = 3.0
"""In a reflection answer, a phrase up to this long (seconds, without the pause after it) is
also decoded as one of the answer's commands ("I'm done", "skip", "another one")."""
ANSWER_SEARCH = "answer"
"""Name of the recogniser's search over what may be said instead of an answer."""
COMMAND_PHRASE_CONFIDENCE = 0.4
"""How sure (0..1) the recogniser must be of such a command to take it over the open model's
words (4 ordinary answer sentences x 4 voices x 5 sample offsets: none was heard as one)."""


class Hearing:
    """What is being heard now: the audio and words so far of one utterance."""

    def __init__(self, recognizer: Recognizer, dialog: Dialog, segmenter: Segmenter,
                 events: LoopEvents, wake_phrase: str) -> None:
        self.recognizer = recognizer
        self.dialog = dialog
        self.segmenter = segmenter
        self.events = events
        self.wake_phrase = wake_phrase
        self._audio: list[bytes] = []
        self._partial = ""
        self._heard_before = ""
        self._phrase_from = 0
        """Where in ``_audio`` the phrase being heard began (free-form speech)."""
        self._read_ahead = 0
        """Bytes of the request read ahead by the second engine at its last pause (0: none)."""

    def hear(self, segment: Segment, mode: Mode, barge_in: bool = False) -> Utterance | None:
        """Feed ``segment`` to the recogniser; the utterance once it is whole (at its end, or
        at a pause when what was said is already a whole request or ends an answer)."""
        if segment.event is Event.START:
            self.recognizer.start(mode)
            self._audio, self._partial, self._heard_before = [], "", ""
            self._phrase_from = 0
            self._ahead(None)
            self.events.status("hearing...")
        if segment.event in (Event.START, Event.AUDIO) and segment.pcm:
            self._audio.append(segment.pcm)
            self._partial = " ".join(
                filter(None, (self._heard_before, self.recognizer.feed(segment.pcm))))
            if self._partial:
                self.events.status(f"hearing: {self._partial}")
        if segment.event is Event.PAUSE:
            if mode == "command":
                return self._pause(mode, barge_in)
            if self._phrase_break(mode):  # "I'm done", "skip": no need to wait any longer
                self.recognizer.finish()
                self.segmenter.end_now()
                return self._utterance(self._heard_before, 1.0, barge_in,
                                       self.segmenter.settings.early_end_s or 0.0)
        if segment.event is Event.END:
            if mode == "open":  # phrase by phrase: the parts decoded so far, and the last
                result = self.recognizer.finish()
                text = " ".join(filter(None, (self._heard_before.strip(),
                                              self._phrase(result.text, Event.END)[0])))
                return self._utterance(text, result.confidence, barge_in,
                                       self.segmenter.settings.end_silence_s)
            if self._read_ahead:
                self._check_read_ahead()
            if self._heard_before:  # decoded in two parts: decode the whole again
                self.recognizer.finish()
                result = self.recognizer.transcribe(b"".join(self._audio), mode)
            else:
                result = self.recognizer.finish()
            return self._utterance(result.text, result.confidence, barge_in,
                                   self.segmenter.settings.end_silence_s, result.alternatives)
        return None

    def _phrase_break(self, mode: Mode) -> bool:
        """A pause in free-form speech: what was said up to it is transcribed on its own, and
        the words after it start afresh (the open model decodes a long answer with pauses in
        it far worse than its phrases one by one). True when the phrase was a command of the
        answer ("I'm done", "skip"): the utterance ends with it."""
        result = self.recognizer.finish()
        text, command = self._phrase(result.text, Event.PAUSE)
        self._heard_before = " ".join(filter(None, (self._heard_before.strip(), text)))
        self.recognizer.start(mode)
        return command

    def _phrase(self, text: str, ended_by: Event) -> tuple[str, bool]:
        """The words of the phrase just heard in free-form speech (``text``, from the open
        model). A short phrase that the phrase model hears as a command of the answer ("I'm
        done", "skip", "another one") is taken as that: the open model knows no phrases, and
        garbles these as readily as any other words. (Not so for safety: the phrase model,
        pulled towards its phrases, can hear danger in an ordinary sentence; the open model's
        words are checked for safety as they are.)"""
        pcm = b"".join(self._audio[self._phrase_from:])
        self._phrase_from = len(self._audio)
        settings = self.segmenter.settings
        silence_s = settings.end_silence_s if ended_by is Event.END else settings.early_end_s
        spoken_s = len(pcm) / 2 / self.recognizer.sample_rate - (silence_s or 0.0)
        if not text or not self.dialog.awaiting_answer or spoken_s > COMMAND_PHRASE_S:
            return text, False
        if self._answer_command(text):
            return text, True
        command = self._command_phrase(pcm)
        if command.confidence >= COMMAND_PHRASE_CONFIDENCE and self._answer_command(
                command.text):
            log.debug("phrase %r heard as the command %r", text, command.text)
            return command.text, True
        return text, False

    def _command_phrase(self, pcm: bytes) -> Transcript:
        """``pcm`` as heard by a search over the commands of an answer alone, where the
        engine has one (PocketSphinx), else by the phrase model."""
        if isinstance(self.recognizer, PhraseListener):
            self.recognizer.listen_for(ANSWER_SEARCH, self.dialog.answer_command_phrases)
            return self.recognizer.transcribe_phrases(pcm, ANSWER_SEARCH)
        return self.recognizer.transcribe(pcm, "command")

    def _answer_command(self, text: str) -> bool:
        command = self.dialog.session_command(normalize(text))
        return command is not None and not self.dialog.pack.intents[command].safety

    def _ahead(self, pcm: bytes | None) -> None:
        """Have the second engine (Whisper) start reading ``pcm`` (the request up to a pause)
        now; ``None``: forget what it read ahead."""
        if isinstance(self.recognizer, SecondReading):
            self.recognizer.read_ahead(pcm)
            self._read_ahead = len(pcm or b"")

    def _check_read_ahead(self) -> None:
        """At the end of a request: forget the reading made at the last pause if speech came
        after it (the segmenter's silence at the end is shorter than the audio since)."""
        heard = sum(len(part) for part in self._audio)
        silent = int(self.segmenter.silent_s * self.recognizer.sample_rate) * 2
        if heard - silent > self._read_ahead:
            self._ahead(None)

    def _pause(self, mode: Mode, barge_in: bool) -> Utterance | None:
        """A short pause: if what was said so far is already a whole request, it is the
        utterance (no need to wait for the full end-of-speech silence). The second engine
        starts reading it at once, in case it is over."""
        self._ahead(b"".join(self._audio))
        result = self.recognizer.finish()
        if self._complete(result.text):
            self.segmenter.end_now()
            return self._utterance(result.text, result.confidence, barge_in,
                                   self.segmenter.settings.early_end_s or 0.0)
        self.recognizer.start(mode)  # keep listening; the end decodes the whole utterance
        self._heard_before = result.text or " "
        return None

    def _utterance(self, text: str, confidence: float, barge_in: bool,
                   silence_s: float, alternatives: tuple[str, ...] = ()) -> Utterance:
        self.events.status(f"heard: {text}" if text else "listening...")
        return Utterance(text, confidence, time.monotonic(), barge_in, b"".join(self._audio),
                         silence_s, alternatives)

    def _complete(self, partial: str) -> bool:
        """Whether what was heard so far is already a whole request: a short pause then ends
        the utterance at once instead of waiting for the full end-of-speech silence."""
        if not partial or self.dialog.awaiting_answer:
            return False
        request = split_wake(partial, self.wake_phrase)[1]
        if not request:
            return False
        match = self.dialog.understand(request)
        complete = match.intent is not None and not match.ambiguous and (
            match.confidence >= EARLY_END_CONFIDENCE)
        log.debug("pause after %r: %s (%s %.2f)", partial, "complete" if complete else "waiting",
                  match.intent, match.confidence)
        return complete
