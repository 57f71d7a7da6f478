"""The hands-free voice loop: hear a request, answer aloud, keep listening.

One :class:`VoiceLoop` owns the microphone, the recogniser, the speaker and a :class:`Dialog`
(the same dialog the typed conversation uses). In order, each turn:

1. waits for speech (the segmenter finds where it starts and ends) while showing what it hears;
2. in wake mode, acts only on utterances that start with the wake phrase, or that come within
   a few seconds of its last reply (follow-ups such as "tell me more");
3. hands the text to the dialog and speaks the reply. While speaking it keeps listening through
   an echo canceller, so a person talking over the reply ("stop") cuts it short at once, and
   its own voice is never taken for a request;
4. after a reflective prompt, listens for a free-form answer that may pause to think, until
   "I'm done" or a longer silence.

The scheduled reflection is offered from inside the loop when it is due.

The parts live beside it: :mod:`.wake` (the wake phrase), :mod:`.hearing` (one utterance from
the segmenter's pieces), :mod:`.barge_in` (a reply played while listening over it) and
:mod:`.events` (what the loop hears and reports); this module runs the turns.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence

from ..audio.devices import Audio, Microphone
from ..audio.echo import EchoCanceller
from ..audio.segmenter import Segment, Segmenter, SegmenterSettings
from ..audio.wavio import duration_s
from ..base.config import ListenSettings
from ..base.errors import AssistantError
from ..base.lang.en import ANSWER_DONE_PHRASES, message
from ..base.normalize import normalize
from ..dialog.manager import Action, Dialog, Turn
from ..speech.stt import Mode, Recognizer, SecondReading, Transcript
from ..speech.tts import Speaker
from .barge_in import BargeIn
from .events import LoopEvents, NoEvents, Utterance
from .hearing import Hearing
from .wake import Wake, split_wake

log = logging.getLogger(__name__)

POLL_S = 0.5
"""How often the loop looks up from the microphone to check the clock (seconds)."""
ECHO_TAIL_S = 0.25
"""After the assistant stops speaking, this much of the microphone is dropped (seconds)."""
WARM_UP_S = 1.0
"""Before speaking unprompted (a reflection reminder due at start-up), this much microphone
audio is read and dropped: an audio stream that has just opened can deliver late, in bursts,
and the echo canceller then takes the assistant's own voice for the person talking over it."""
BARGE_IN_CONFIDENCE = 0.6
"""Speech over a reply recognised less surely than this (0..1) only stops the reply."""
HEARD_OUT_CONFIDENCE = 0.8
"""Speech over a reply whose echo cannot be removed exactly is acted on only when matched this
surely (0..1): what the recogniser makes of the reply's own voice is rarely a clear request."""
ACKNOWLEDGEMENTS = ("yes", "no", "thanks")
"""What intents do (``does:``) that, said over a reply that asked nothing ("okay, okay",
"no no", "thanks"), mean "enough": the reply stops and nothing else happens."""


class VoiceLoop:
    """The conversation by voice: turns, follow-ups, reflection answers (see the module)."""

    def __init__(
        self,
        dialog: Dialog,
        recognizer: Recognizer,
        microphone: Microphone,
        speaker: Speaker | None,
        settings: ListenSettings,
        *,
        wake: Wake = "wake",
        echo: EchoCanceller | None = None,
        reminder_check: Callable[[], str | None] | None = None,
        events: LoopEvents | None = None,
        enter_pressed: threading.Event | None = None,
        rate_step: int = 25,
    ) -> None:
        self.dialog = dialog
        self.recognizer = recognizer
        self.mic = microphone
        self.speaker = speaker
        self.settings = settings
        self.wake = wake
        self.reminder_check = reminder_check
        self.events: LoopEvents = events or NoEvents()
        self.enter_pressed = enter_pressed
        self.rate_step = rate_step
        self.segmenter = Segmenter(SegmenterSettings(
            sample_rate=recognizer.sample_rate, end_silence_s=settings.end_silence_s,
            max_utterance_s=settings.max_utterance_s, early_end_s=settings.early_end_s,
        ))
        self.follow_up_until = 0.0
        self.turns = 0
        self.stopping = threading.Event()
        self.speech_failed = False
        self.pending: Utterance | None = None
        self._saying = ""
        """The reply being spoken."""
        self.hearing = Hearing(recognizer, dialog, self.segmenter, self.events,
                               settings.wake_phrase)
        self.barge_in = BargeIn(microphone, echo, settings, recognizer.sample_rate,
                                self.stopping)

    # ---------------------------------------------------------------------------------- run

    def run(self, turns: int | None = None, timeout_s: float | None = None) -> int:
        """Listen until ``turns`` turns were handled, ``timeout_s`` passed, "goodbye", or
        :meth:`stop`; 0 when it ended normally."""
        deadline = time.monotonic() + timeout_s if timeout_s else None
        self.mic.flush()
        self.events.notice(self._how_to_talk())
        while not self.stopping.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                break
            self._offer_due_reflection()
            if turns is not None and self.turns >= turns:
                break
            utterance = self.pending or self._listen(deadline)
            self.pending = None
            if utterance is None:
                continue
            text = self._addressed(utterance)
            if text is None:
                continue
            text, utterance = self._second_reading(text, utterance)
            if utterance.barge_in and self._interruption(text, utterance.confidence):
                if turns is not None and self.turns >= turns:
                    break
                continue
            readings = [split_wake(r, self.settings.wake_phrase)[1]
                        for r in utterance.alternatives]
            if self._turn(text, utterance.confidence, readings) or (
                    turns is not None and self.turns >= turns):
                break
        self.events.status("")
        return 0

    def _how_to_talk(self) -> str:
        if self.wake == "push_to_talk":
            return "ready: press Enter, then speak (Ctrl-C to quit)"
        if self.wake == "always":
            return "ready: listening to everything you say (Ctrl-C to quit)"
        return f"ready: say \"{self.settings.wake_phrase}\" and your request (Ctrl-C to quit)"

    def stop(self) -> None:
        """End the loop (from a signal handler or another thread); stop speaking now."""
        self.stopping.set()
        if self.speaker is not None:
            self.speaker.stop()

    def _interruption(self, text: str, confidence: float) -> bool:
        """Speech over a reply that is no request of its own just stops the reply; True when
        that is what it was: "stop"; "okay" / "no" / "thanks" when the reply asked nothing;
        and what the recogniser is unsure of (``confidence`` below
        :data:`BARGE_IN_CONFIDENCE`): the echo canceller suppresses much of what is said
        while the reply still sounds, so a clipped "stop" comes out as "what can" or "the
        topic". A safety request is never taken for an interruption."""
        match = self.dialog.understand(text)
        pack = self.dialog.pack
        acknowledged = any(pack.does(match.intent, b) for b in ACKNOWLEDGEMENTS) and (
            not self.dialog.asked_a_question)
        safety = self.dialog.is_safety(match)
        unsure = confidence < BARGE_IN_CONFIDENCE and not safety
        stop = pack.doing("stop")
        if match.intent is not None and not pack.does(match.intent, "stop") and not (
                acknowledged or unsure):
            return False
        self.turns += 1
        self._emit(Turn(text, stop.name if stop else "stop",
                        match.confidence if match.intent else 0.0, {}, ""))
        self.follow_up_until = time.monotonic() + self.settings.follow_up_s
        self.events.status("stopped; listening...")
        return True

    def _turn(self, text: str, confidence: float = 1.0, readings: Sequence[str] = ()) -> bool:
        """Handle one request; True when the conversation should end."""
        try:
            turn = self.dialog.handle(text, confidence, readings)
        except AssistantError as exc:  # one bad turn never ends the conversation
            self.events.notice(f"error: {exc.format_message()}")
            return False
        self.turns += 1
        self._emit(turn)
        self._speak(turn.reply)
        self._apply(turn)
        if Action.AWAIT_ANSWER in turn.actions and not self.stopping.is_set():
            self._answer()
        return Action.END in turn.actions

    # ------------------------------------------------------------------------------ hearing

    def _listen(self, deadline: float | None, mode: Mode = "command",
                wait_s: float = POLL_S) -> Utterance | None:
        """The next utterance, or None when no speech started within ``wait_s``."""
        talk = self.wake == "push_to_talk" and mode == "command" and not self._follow_up()
        if talk and not self._wait_for_enter(deadline):
            return None
        if self.wake == "push_to_talk" and mode == "command":
            wait_s = max(wait_s, 8.0)
        # The wait is over when this much time has passed or this much audio has been heard,
        # whichever comes first: a microphone that delivers a backlog at once (after the
        # machine was busy, or a recording) holds the silence the person left.
        give_up = time.monotonic() + wait_s
        heard_s = 0.0
        while not self.stopping.is_set():
            block = self.mic.read(timeout=0.1)
            if block is None:
                if not self.segmenter.in_speech and time.monotonic() >= give_up:
                    return None
                continue
            heard_s += duration_s(block, self.recognizer.sample_rate)
            for segment in self.segmenter.push(block):
                done = self._hear(segment, mode)
                if done is not None:
                    return done
            if not self.segmenter.in_speech and (
                    time.monotonic() >= give_up or heard_s >= wait_s):
                return None
        return None

    def _hear(self, segment: Segment, mode: Mode, barge_in: bool = False) -> Utterance | None:
        return self.hearing.hear(segment, mode, barge_in)

    def _wait_for_enter(self, deadline: float | None) -> bool:
        self.events.status("press Enter to talk")
        event = self.enter_pressed
        if event is None:
            return False
        while not self.stopping.is_set():
            if event.wait(timeout=POLL_S):
                event.clear()
                self.mic.flush()
                self.segmenter.reset()
                self.events.status("listening...")
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            self._offer_due_reflection()
        return False

    def _follow_up(self) -> bool:
        return time.monotonic() <= self.follow_up_until

    def _addressed(self, utterance: Utterance) -> str | None:
        """The request in ``utterance``, or None when it was not meant for the assistant."""
        if not normalize(utterance.text):
            return None
        woke, rest = split_wake(utterance.text, self.settings.wake_phrase)
        if self.wake == "always" and not utterance.barge_in:
            return rest or normalize(utterance.text)  # "hi coach" alone is a greeting here
        if self.wake != "wake" or utterance.barge_in or self._follow_up():
            return rest or None
        if not woke and utterance.pcm:
            # A second, whole-utterance pass: the streaming pass is weakest on the first
            # words, where the wake phrase is.
            again = self.recognizer.transcribe(utterance.pcm, "command").text
            woke, rest = split_wake(again, self.settings.wake_phrase)
            log.debug("second pass: %r", again)
        if not woke:
            log.debug("not addressed to me: %r", utterance.text)
            self.events.status("listening for the wake phrase...")
            return None
        if rest:
            return rest
        self._speak(message("wake_heard"))
        return None


    def _second_reading(self, request: str, utterance: Utterance) -> tuple[str, Utterance]:
        """The request as the recogniser's second engine reads it (Whisper), once it is known
        to be for the assistant; as it was heard when there is no second engine."""
        if not isinstance(self.recognizer, SecondReading) or not utterance.pcm:
            return request, utterance
        heard = self.recognizer.refine(
            utterance.pcm, Transcript(utterance.text, utterance.confidence,
                                      utterance.alternatives))
        log.debug("second reading: %r (first %r)", heard.text, utterance.text)
        woke, rest = split_wake(heard.text, self.settings.wake_phrase)
        text = (rest if woke else normalize(heard.text)) or request
        return text, dataclasses.replace(utterance, text=heard.text, confidence=heard.confidence,
                                         alternatives=heard.alternatives)

    # ----------------------------------------------------------------------------- speaking

    def _speak(self, text: str) -> None:
        """Say ``text`` (print it when speech is off or fails); listen for barge-in."""
        if not text:
            return
        self.events.reply(text)
        speaker = self.speaker
        self._saying = text
        if speaker is None or self.speech_failed:
            self.follow_up_until = time.monotonic() + self.settings.follow_up_s
            return
        try:
            # The whole reply before it plays: made sentence by sentence while playing, it
            # let the assistant's own voice through the echo canceller now and then (see the
            # README's Voice section), so the voice loop does not stream yet.
            audio = speaker.synthesizer.synthesize(text)
        except AssistantError as exc:
            self._speech_failure(exc)
            return
        if audio.pcm:
            self.events.status("speaking...")
            self.pending = self._play(speaker, iter([audio]))
            time.sleep(ECHO_TAIL_S if self.pending is None else 0)
            if self.pending is None:
                self.mic.flush()
                self.segmenter.reset()
        self.follow_up_until = time.monotonic() + self.settings.follow_up_s
        self.events.status("listening...")

    def _play(self, speaker: Speaker, chunks: Iterator[Audio]) -> Utterance | None:
        """Play the reply's ``chunks``; return what the person said over it, if they did
        (:class:`~.barge_in.BargeIn`)."""
        heard, failure = self.barge_in.play(
            speaker, chunks, lambda segment: self._hear(segment, "command", barge_in=True),
            self._meant)
        if failure is not None:
            self._speech_failure(failure)
        return heard

    def _meant(self, text: str) -> bool:
        """Whether speech heard out over the reply was meant: "stop", a safety request, or a
        request understood surely that is not words of the reply itself."""
        match = self.dialog.understand(text)
        if match.intent is None:
            return False
        if self.dialog.pack.does(match.intent, "stop") or self.dialog.is_safety(match):
            return True
        own = set(normalize(self._saying).split())
        words = normalize(text).split()
        return match.confidence >= HEARD_OUT_CONFIDENCE and not set(words) <= own

    def _speech_failure(self, exc: AssistantError) -> None:
        if not self.speech_failed:
            self.events.notice(f"speech output failed ({exc.format_message()}); "
                               "replies are printed instead")
        self.speech_failed = True

    # ------------------------------------------------------------------------------ actions

    def _apply(self, turn: Turn) -> None:
        """"Slower" and "faster" change the speaking rate for the rest of the session."""
        if self.speaker is not None:
            change_rate(self.speaker, turn.actions, self.rate_step)

    def _emit(self, turn: Turn) -> None:
        self.events.turn(turn)

    # --------------------------------------------------------------------------- reflection

    def reflect_now(self) -> None:
        """One reflection session now (``trust-assistant reflect``)."""
        turn = self.dialog.start_reflection()
        self._emit(turn)
        self._speak(turn.reply)
        if self.dialog.awaiting_answer and not self.stopping.is_set():
            self._answer()

    def _offer_due_reflection(self) -> None:
        if self.reminder_check is None or self.dialog.awaiting_answer:
            return
        intro = self.reminder_check()
        if intro is None:
            return
        self._warm_up()
        turn = self.dialog.start_reflection(intro)
        self._emit(turn)
        self._speak(turn.reply)
        if self.dialog.awaiting_answer and not self.stopping.is_set():
            self._answer()

    def _warm_up(self) -> None:
        """Read and drop :data:`WARM_UP_S` of microphone audio (a few seconds at most)."""
        wanted = int(WARM_UP_S * self.recognizer.sample_rate * 2)
        give_up = time.monotonic() + WARM_UP_S + 2.0
        while wanted > 0 and time.monotonic() < give_up and not self.stopping.is_set():
            block = self.mic.read(timeout=0.1)
            wanted -= len(block or b"")
        self.mic.flush()

    def _answer(self) -> None:
        """Hear a reflective answer: pauses are fine; "I'm done" or a long silence ends it."""
        self.segmenter.set_silences(self.settings.answer_silence_s, self.settings.phrase_break_s)
        parts: list[str] = []
        nudged = False
        spoken_s = 0.0  # the answer's audio so far: a room that never falls silent (a TV)
        # must not keep the answer open forever
        try:
            while not self.stopping.is_set() and self.dialog.awaiting_answer:
                if parts and spoken_s >= self.settings.answer_max_s:
                    log.info("answer ended after %.0f s of speech", spoken_s)
                    break
                wait = self.settings.answer_silence_s * 2 if parts else self.settings.nudge_after_s
                heard = self.pending or self._listen(None, mode="open", wait_s=wait)
                self.pending = None
                if heard is None:
                    if parts:
                        break
                    if nudged:
                        self._finish_answer(None)
                        return
                    nudged = True
                    self._speak(message("still_listening"))
                    continue
                text = normalize(heard.text)
                if not text:
                    continue
                command = self.dialog.session_command(text)
                if self.dialog.pack.does(command, "answer_done") and parts:
                    break
                if command is not None:
                    turn = self.dialog.handle(text)
                    self._emit(turn)
                    self._speak(turn.reply)
                    if not self.dialog.awaiting_answer:
                        return
                    continue
                done, text = _strip_done(text)
                if text:
                    parts.append(text)
                    spoken_s += duration_s(heard.pcm, self.recognizer.sample_rate)
                if done:
                    break
            if parts:
                self._finish_answer(" ".join(parts))
        finally:
            self.segmenter.set_silences(self.settings.end_silence_s, self.settings.early_end_s)

    def _finish_answer(self, answer: str | None) -> None:
        if answer is None:
            self.dialog.end_reflection()
            self._speak(message("answer_later"))
            return
        turn = self.dialog.handle(answer)
        self.turns += 1
        self._emit(turn)
        self._speak(turn.reply)


def _strip_done(text: str) -> tuple[bool, str]:
    """(whether the answer ends with "I'm done", the answer without it)."""
    for phrase in ANSWER_DONE_PHRASES:
        if text == phrase:
            return True, ""
        if text.endswith(" " + phrase):
            return True, text[: -len(phrase) - 1].strip()
    return False, text


def change_rate(speaker: Speaker, actions: Iterable[str], step: int) -> None:
    """Apply a turn's "slower" / "faster" to the speaker (words per minute)."""
    synth = speaker.synthesizer
    if Action.SLOWER in actions:
        synth.set_rate(synth.rate - step)
    elif Action.FASTER in actions:
        synth.set_rate(synth.rate + step)
