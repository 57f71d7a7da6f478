"""The application core: one :class:`Assistant`, built once from settings, with typed operations.

A front end (the command line in :mod:`assistant.cli`; a web page or a satellite could be
another) builds one Assistant and calls it: :meth:`~Assistant.ask`, :meth:`~Assistant.hear`,
:meth:`~Assistant.transcribe`, :meth:`~Assistant.reflect`, :meth:`~Assistant.voice_loop`,
:meth:`~Assistant.say`, the journal, reminders and models. It returns results and reports what
happens through :class:`Events`; it never prints. Engines load on first use and are kept.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from ..base.config import Settings, TtsSettings, data_dir
from ..base.errors import AssistantError, UsageError
from ..base.lang.en import message
from ..dialog.manager import Dialog, Turn
from ..loop.events import LoopEvents, NoEvents
from ..loop.listen import change_rate
from ..loop.wake import Wake, split_wake
from ..memory.services import make_services
from ..pack.intents import IntentPack
from ..speech.stt import Mode, Recognizer, SecondReading, Transcript, make_recognizer
from .runtime import make_dialog, make_matcher

if TYPE_CHECKING:
    from ..audio.devices import Device, Microphone
    from ..loop.listen import VoiceLoop
    from ..memory.journal import Journal
    from ..memory.state import StateStore
    from ..speech.models import CatalogEntry, InstalledModel
    from ..speech.tts import Speaker, Synthesizer, Voice
    from ..speech.tts.rendered import KeptSentences
    from ..understanding.matcher import Matcher

log = logging.getLogger(__name__)

Events = LoopEvents
"""What the assistant reports as it goes (see :class:`assistant.loop.events.LoopEvents`)."""

MAX_UTTERANCE_CHARS = 1000
"""Longest utterance accepted (characters); a spoken request is a few hundred at most."""


def check_utterance(text: str, where: str = "") -> str:
    """``text`` as one clean line; :class:`UsageError` for empty, binary or overlong input."""
    prefix = f"{where}: " if where else ""
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text) or "\ufffd" in text:
        raise UsageError(f"{prefix}input is not text (binary data)")
    text = " ".join(text.split())
    if not text:
        raise UsageError(f"{prefix}empty utterance: say or type something")
    if len(text) > MAX_UTTERANCE_CHARS:
        raise UsageError(
            f"{prefix}utterance too long ({len(text)} characters; the limit is "
            f"{MAX_UTTERANCE_CHARS}): ask one thing at a time"
        )
    return text


def respond(dialog: Dialog, raw: str, where: str = "") -> Turn:
    """The dialog's turn for one typed utterance. What is about danger gets the safety reply
    whatever else is wrong with it (too long, control characters); other bad input raises
    :class:`UsageError`."""
    try:
        text = check_utterance(raw, where)
    except UsageError:
        printable = "".join(c if c.isprintable() and c != "\ufffd" else " " for c in raw)
        turn = dialog.safety_first(printable)
        if turn is None:
            raise
        return turn
    return dialog.handle(text)


def recognizer_for(
    settings: Settings, pack: IntentPack | None, wake_first: bool = False
) -> Recognizer:
    """The configured recogniser, biased towards ``pack`` and the wake phrase. With
    ``wake_first`` (listening for the wake phrase) the phrase model expects the wake phrase
    before a request: PocketSphinx then hears "hey coach" at the start of an utterance far
    more often."""
    wake = (settings.listen.wake_phrase,)
    if wake_first:
        return make_recognizer(settings.stt, pack, prefixes=wake)
    return make_recognizer(settings.stt, pack, extra_phrases=wake)


def recognise(recognizer: Recognizer, pcm: bytes, mode: Mode = "command") -> Transcript:
    """One whole utterance; a request is read twice when the recogniser has a second engine."""
    if mode == "command" and isinstance(recognizer, SecondReading):
        return recognizer.read_twice(pcm)
    return recognizer.transcribe(pcm, mode)


@dataclass(frozen=True)
class Reflection:
    """One reflection session: the prompt asked, and the turn that took the answer (None when
    no answer was given)."""

    prompt: Turn
    answer: Turn | None


class ReplySpeaker:
    """Speaks the replies of a typed conversation or of ``ask --speak``; "slower" and "faster"
    change the rate for the session; when speech fails it says so once and goes on."""

    def __init__(self, speaker: Speaker | None, step: int, events: Events) -> None:
        self.speaker = speaker
        self.step = step
        self.events = events

    def __call__(self, turn: Turn) -> None:
        if self.speaker is None:
            return
        change_rate(self.speaker, turn.actions, self.step)
        if not turn.reply:
            return
        try:
            self.speaker.speak(turn.reply)
        except AssistantError as exc:
            self.events.notice(f"error: speech output failed ({exc.format_message()}); "
                               "replies are printed only")
            self.speaker = None


class Assistant:
    """Everything a session needs, built from ``settings`` once and reused for every turn."""

    def __init__(self, settings: Settings, events: Events | None = None) -> None:
        self.settings = settings
        self.events: Events = events or NoEvents()
        self._recognizers: dict[tuple[bool, bool], Recognizer] = {}

    # ------------------------------------------------------------------------ understanding

    @cached_property
    def matcher(self) -> Matcher:
        """The matcher for the intent pack (the shipped one unless turned off, then the
        user's), loaded from its cache when the pack's files have not changed."""
        return make_matcher(self.settings)

    @property
    def pack(self) -> IntentPack:
        """The intent pack, as the matcher holds it (one copy in memory)."""
        return self.matcher.pack

    @cached_property
    def dialog(self) -> Dialog:
        """The conversation, with the user's journal and reminder services."""
        return make_dialog(self.settings, self.matcher,
                           services=make_services(),
                           deck_state=data_dir() / "prompts_used.json")

    def warm_up(self, hearing: bool = True, speaking: bool = True) -> Assistant:
        """Start loading the engines' weights (the recogniser's when ``hearing``, the voice's
        when ``speaking``) on background threads. They load outside Python's lock, so they
        load while the pack and the dialog do, and start-up takes about the longest of the
        two instead of their sum. The engines then find them loaded; a failure here is left
        for that real load, which reports it."""
        from ..speech import stt, tts

        def hear() -> None:
            stt.preload(self.settings.stt, self.settings.language)

        def speak() -> None:
            tts.preload(self.settings.tts)

        def load(step: Callable[[], None]) -> None:
            try:
                step()
            except Exception as error:  # reported when the engine is really made
                log.debug("preloading failed: %s", error)

        for step in [hear] * hearing + [speak] * speaking:
            # not a daemon: an exit during start-up waits for the load rather than cutting a
            # native library off mid-load
            threading.Thread(target=load, args=(step,), name="warm-up").start()
        return self

    def load(self) -> Assistant:
        """Load the pack and the dialog now (their errors are raised here, not mid-turn)."""
        self.dialog  # noqa: B018 -- a cached property: reading it builds it
        return self

    def ask(self, text: str, where: str = "") -> Turn:
        """One typed turn (see :func:`respond`); :class:`UsageError` for bad input."""
        return respond(self.dialog, text, where)

    # ------------------------------------------------------------------------------ hearing

    def recognizer(self, wake_first: bool = False, open_only: bool = False) -> Recognizer:
        """The recogniser (loaded once): biased towards the pack unless ``open_only``."""
        key = (wake_first, open_only)
        if key not in self._recognizers:
            pack = None if open_only else self.pack
            self._recognizers[key] = recognizer_for(self.settings, pack, wake_first)
        return self._recognizers[key]

    def prepare(self, wake_first: bool) -> float:
        """Build the recogniser's phrase model for the pack now (it is kept in the cache, so
        the next start is quick); the seconds it took."""
        started = time.perf_counter()
        self.recognizer(wake_first)
        return time.perf_counter() - started

    def prepare_voice(self) -> tuple[int, float] | None:
        """Speak every known sentence once into the cache (a sentence voice only, such as
        Piper), so that no reply waits to be made: (sentences made, seconds it took); None
        when the configured voice is not a sentence voice."""
        from ..speech.tts import make_synthesizer
        from ..speech.tts.base import SentenceSynthesizer

        started = time.perf_counter()
        synthesizer = make_synthesizer(self.settings.tts)
        if not isinstance(synthesizer, SentenceSynthesizer):
            return None
        kept = synthesizer.kept = self.kept_sentences
        before = kept.made
        for done, text in enumerate(kept.texts, 1):
            self.events.status(f"saying each reply once: {done}/{len(kept.texts)}")
            synthesizer.synthesize(text)
        self.events.status("")
        return kept.made - before, time.perf_counter() - started

    def transcribe(self, path: Path, open_only: bool = False) -> Transcript:
        """The words in a WAV file: biased towards the pack's phrases, or free-form."""
        from ..audio.wavio import read_wav

        recognizer = self.recognizer(open_only=open_only)
        pcm = read_wav(path, recognizer.sample_rate)
        return recognise(recognizer, pcm, "open" if open_only else "command")

    def hear(self, path: Path) -> Turn:
        """One spoken turn from a WAV file: recognised (a leading wake phrase dropped) and
        answered as a typed one would be."""
        heard = self.transcribe(path)
        wake = self.settings.listen.wake_phrase
        request = split_wake(heard.text, wake)[1]
        if not request:
            return Turn(heard.text, None, 0.0, {}, message("not_heard"))
        readings = [split_wake(r, wake)[1] for r in heard.alternatives]
        turn = self.dialog.handle(request, heard.confidence, readings)
        return turn.heard_as(heard.text) if turn.text == request else turn

    # ----------------------------------------------------------------------------- speaking

    def tts_settings(self, voice: str | None = None, rate: int | None = None) -> TtsSettings:
        return replace(self.settings.tts, voice=voice or self.settings.tts.voice,
                       rate=rate or self.settings.tts.rate)

    def voice_note(self, tts: TtsSettings | None = None) -> None:
        """Say (as a notice) when the voice is not the one people would expect (no Piper)."""
        from ..speech.tts import choose_engine

        note = choose_engine(tts or self.settings.tts).note
        if note is not None:
            self.events.notice(f"note: {note}")

    @cached_property
    def speaker(self) -> Speaker | None:
        """The speaker (its voice loaded now, once); None, said as a notice, when it cannot
        be."""
        from ..speech.tts import Speaker
        from ..speech.tts.base import SentenceSynthesizer

        try:
            self.voice_note()
            speaker = Speaker.from_settings(self.settings.tts, self.settings.audio)
        except AssistantError as exc:
            self.events.notice(f"error: {exc.format_message()}; replies are printed only")
            return None
        if isinstance(speaker.synthesizer, SentenceSynthesizer):
            speaker.synthesizer.kept = self.kept_sentences
        return speaker

    @cached_property
    def kept_sentences(self) -> KeptSentences:
        """The sentences the assistant can say (the pack's replies and prompts, the safety
        reply, its messages), spoken once and kept (:mod:`assistant.speech.tts.rendered`)."""
        from ..base.config import cache_dir
        from ..base.lang.en import MESSAGES
        from ..pack.intents import render_reply
        from ..speech.tts.rendered import KeptSentences

        fields = self.dialog.contacts.fields()
        texts = [render_reply(reply, fields) for intent in self.pack.intents.values()
                 for reply in intent.replies]
        texts += [prompt for intent in self.pack.intents.values() for prompt in intent.prompts]
        texts += MESSAGES.values()
        return KeptSentences([t for t in texts if "{" not in t], cache_dir() / "voice")

    def reply_speaker(self) -> ReplySpeaker:
        """Something to call with each turn of a typed conversation to speak its reply."""
        return ReplySpeaker(self.speaker, self.settings.tts.rate_step, self.events)

    def voices(self, tts: TtsSettings) -> list[tuple[str, Voice]]:
        """(engine, voice) for every voice the installed engines offer."""
        from ..speech.tts import list_voices

        return list_voices(tts)

    def synthesizer(self, tts: TtsSettings) -> Synthesizer:
        from ..speech.tts import make_synthesizer

        self.voice_note(tts)
        return make_synthesizer(tts)

    def say(self, text: str, tts: TtsSettings, out: Path | None = None) -> None:
        """Speak ``text`` on the speaker, or write the speech to the WAV file ``out``."""
        from ..speech.tts import Speaker, write_wav

        if out is not None:
            write_wav(self.synthesizer(tts).synthesize(text), out)
            return
        self.voice_note(tts)
        Speaker.from_settings(tts, self.settings.audio).speak(text)

    # ---------------------------------------------------------------------------- reflection

    def reflect(self, answer: str, where: str = "--answer") -> Reflection:
        """A reflection session answered in writing; bad input raises before anything is
        asked."""
        dialog = self.dialog
        prompt = dialog.start_reflection()
        turn = respond(dialog, answer, where) if dialog.awaiting_answer else None
        return Reflection(prompt, turn)

    def reflect_wav(self, path: Path) -> Reflection:
        """A reflection session answered by a recording (``answer`` None when no words were
        recognised in it)."""
        from ..audio.wavio import read_wav

        recognizer = self.recognizer()
        answer = recognizer.transcribe(read_wav(path, recognizer.sample_rate), "open")
        prompt = self.dialog.start_reflection()
        if not answer.text:
            return Reflection(prompt, None)
        return Reflection(prompt, self.dialog.handle(answer.text))

    def reminder_check(self) -> Callable[[], str | None]:
        """A function that returns the intro to say when the scheduled reflection is due,
        else None."""
        from ..base.schedule import SystemClock
        from ..memory.reminder import Reminder

        clock = SystemClock()
        reminder = make_services(clock).reminder

        def check() -> str | None:
            try:
                now = clock.now()
                slot = reminder.pending(now)
                if slot is None or not reminder.due(now):
                    return None
                return Reminder.intro(slot, now)
            except AssistantError as exc:
                log.warning("reflection reminder unavailable: %s", exc.format_message())
                return None
        return check

    # -------------------------------------------------------------------------------- voice

    def open_microphone(self) -> Microphone:
        """The configured microphone, started; :class:`AudioError` when there is none."""
        from ..audio.devices import Microphone

        return Microphone.from_settings(self.settings.audio).start()

    def voice_loop(
        self, microphone: Microphone, wake: Wake, speak: bool = True,
        enter_pressed: threading.Event | None = None,
    ) -> VoiceLoop:
        """The hands-free loop on ``microphone``; ``speak`` False prints replies only."""
        from ..audio.echo import make_echo_canceller
        from ..loop.listen import VoiceLoop

        dialog = self.dialog
        recognizer = self.recognizer(wake_first=wake == "wake")
        speaker = self.speaker if speak else None
        return VoiceLoop(
            dialog, recognizer, microphone, speaker, self.settings.listen, wake=wake,
            rate_step=self.settings.tts.rate_step,
            echo=make_echo_canceller(recognizer.sample_rate) if speaker is not None else None,
            reminder_check=self.reminder_check(), events=self.events,
            enter_pressed=enter_pressed,
        )

    # ------------------------------------------------------------------- memory and models

    @cached_property
    def journal(self) -> Journal:
        """The private journal of reflection answers (opt-in; :mod:`~assistant.memory.journal`)."""
        from ..memory.journal import Journal

        return Journal()

    @cached_property
    def state(self) -> StateStore:
        """The person's saved choices: journal on or off, the reflection's time."""
        from ..memory.state import StateStore

        return StateStore()

    def devices(self) -> list[Device]:
        """The audio input and output devices."""
        from ..audio.devices import list_devices

        return list_devices()

    def models(self) -> tuple[list[InstalledModel], list[CatalogEntry]]:
        """(installed models, bundled ones included; models the catalogue offers)."""
        from ..speech import models as store

        installed = store.installed_models()
        names = {m.name for m in installed}
        installed += [m for m in store.bundled_models() if m.name not in names]
        return installed, store.available_models()

    def install_model(self, source: str, sha256: str | None = None, force: bool = False,
                      name: str | None = None) -> InstalledModel:
        """Install a model from the catalogue, a URL, a zip file or a directory."""
        from ..speech import models as store

        return store.install(source, expected_sha256=sha256, force=force, name=name)

    def remove_model(self, name: str) -> Path:
        from ..speech import models as store

        return store.remove(name)
