"""The voice commands: listen, transcribe, ask --wav, say, devices, models, spoken reflect.

Each builds what it needs once (pack, matcher, recogniser, speech) and reuses it for every
file or turn. Engines are imported here, never by the text-only commands.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from .config import Settings, TtsSettings
from .dialog import Dialog, Turn
from .errors import AssistantError, AudioError, UsageError
from .intents import IntentPack
from .runtime import load_pack
from .stt import Mode, Recognizer, SecondReading, Transcript, make_recognizer

if TYPE_CHECKING:
    from .audio import Microphone
    from .listen import VoiceLoop, Wake
    from .tts import Speaker

log = logging.getLogger(__name__)


def _error(message: str) -> None:
    print(f"trust-assistant: error: {message}", file=sys.stderr, flush=True)


def recognizer_for(
    settings: Settings, pack: IntentPack | None, wake_first: bool = False
) -> Recognizer:
    """The configured recogniser, biased towards ``pack`` and the wake phrase. With
    ``wake_first`` (listening for the wake phrase) the phrase model expects the wake phrase
    before a request: PocketSphinx then hears "hey coach" at the start of an utterance far
    more often (bench/stt.py --wake: 92% against 53%)."""
    wake = (settings.listen.wake_phrase,)
    if wake_first:
        return make_recognizer(settings.stt, pack, prefixes=wake)
    return make_recognizer(settings.stt, pack, extra_phrases=wake)


def strip_wake(text: str, wake_phrase: str) -> str:
    """``text`` without a leading wake phrase ("hey coach, how do I start" -> the request)."""
    from .listen import split_wake

    return split_wake(text, wake_phrase)[1]


# ------------------------------------------------------------------------- transcribe & ask

def _transcribe_files(
    files: list[Path], recognizer: Recognizer, mode: Mode,
    each: Callable[[Path, Transcript], None],
) -> int:
    """Recognise each file with one loaded engine; a bad file is reported and skipped."""
    from .wavio import read_wav

    status = 0
    for path in files:
        try:
            pcm = read_wav(path, recognizer.sample_rate)
            if mode == "command" and isinstance(recognizer, SecondReading):
                result = recognizer.read_twice(pcm)
            else:
                result = recognizer.transcribe(pcm, mode)
        except AssistantError as exc:
            _error(exc.format_message())
            status = 2
            continue
        each(path, result)
    return status


def transcribe(args: argparse.Namespace, settings: Settings) -> int:
    pack = None if args.open else load_pack(settings)
    recognizer = recognizer_for(settings, pack)
    mode: Mode = "open" if args.open else "command"

    def show(path: Path, heard: Transcript) -> None:
        if args.json:
            print(json.dumps({"file": str(path), "text": heard.text,
                              "confidence": round(heard.confidence, 3)}, ensure_ascii=False),
                  flush=True)
        else:
            print(f"{path}: {heard.text}", flush=True)

    return _transcribe_files(list(args.files), recognizer, mode, show)


def ask_wavs(args: argparse.Namespace, settings: Settings) -> int:
    from .commands import emit
    from .reflect_cli import build_dialog

    dialog = build_dialog(settings)
    recognizer = recognizer_for(settings, dialog.pack)
    speaker = make_speaker(settings) if args.speak else None

    def answer(path: Path, heard: Transcript) -> None:
        wake = settings.listen.wake_phrase
        request = strip_wake(heard.text, wake)
        if request:
            readings = [strip_wake(r, wake) for r in heard.alternatives]
            turn = dialog.handle(request, heard.confidence, readings)
            if turn.text == request:  # what was heard, with the wake phrase
                turn = turn.heard_as(heard.text)
        else:
            turn = Turn(heard.text, None, 0.0, {}, "Sorry, I didn't catch that. Could you say "
                        "it again?")
        emit(turn, args.json)
        if speaker is not None:
            speaker(turn)

    return _transcribe_files(list(args.wav), recognizer, "command", answer)


# ----------------------------------------------------------------------------------- speech

class ReplySpeaker:
    """Speaks the replies of a typed conversation or of ``ask --speak``; "slower" and "faster"
    change the rate for the session; when speech fails it says so once and goes on."""

    def __init__(self, settings: Settings) -> None:
        self.step = settings.tts.rate_step
        self.speaker: Speaker | None = _speaker_or_none(settings)

    def __call__(self, turn: Turn) -> None:
        if self.speaker is None:
            return
        change_rate(self.speaker, turn.actions, self.step)
        if not turn.reply:
            return
        try:
            self.speaker.speak(turn.reply)
        except AssistantError as exc:
            _error(f"speech output failed ({exc.format_message()}); replies are printed only")
            self.speaker = None


def change_rate(speaker: Speaker, actions: Iterable[str], step: int) -> None:
    """Apply a turn's "slower" / "faster" to the speaker (words per minute)."""
    from .dialog import Action

    synth = speaker.synthesizer
    if Action.SLOWER in actions:
        synth.set_rate(synth.rate - step)
    elif Action.FASTER in actions:
        synth.set_rate(synth.rate + step)


def make_speaker(settings: Settings) -> ReplySpeaker:
    return ReplySpeaker(settings)


def say(args: argparse.Namespace, settings: Settings) -> int:
    from dataclasses import replace

    from .tts import Speaker, list_voices, make_synthesizer

    tts = replace(settings.tts, voice=args.voice or settings.tts.voice,
                  rate=args.rate or settings.tts.rate)
    if args.list_voices:
        for engine, voice in list_voices(tts):
            languages = ", ".join(voice.languages)
            print(f"{voice.id:<24} {voice.name:<28} {engine:<8} {languages}")
        return 0
    text = " ".join(args.text).strip()
    if not text:
        raise UsageError("nothing to say: give the text, e.g. trust-assistant say \"hello\"")
    if args.out is not None and args.out.suffix.lower() != ".wav":
        raise UsageError(f"{args.out}: the output must be a .wav file")
    _tts_note(tts)
    if args.out is not None:
        from .tts import write_wav

        write_wav(make_synthesizer(tts).synthesize(text), args.out)
        print(f"wrote {args.out}")
        return 0
    Speaker.from_settings(tts, settings.audio).speak(text)
    return 0


def _tts_note(tts: TtsSettings) -> None:
    """Say on stderr when the voice is not the one people would expect (no Piper)."""
    from .tts import choose_engine

    note = choose_engine(tts).note
    if note is not None:
        print(f"trust-assistant: note: {note}", file=sys.stderr, flush=True)


def devices(args: argparse.Namespace, settings: Settings) -> int:
    from .audio import format_devices, list_devices

    found = list_devices()
    if args.json:
        for device in found:
            print(json.dumps(device.__dict__, default=str))
    else:
        print(format_devices(found) if found else "no audio devices found")
    return 0


def models(args: argparse.Namespace, settings: Settings) -> int:
    from . import models as store

    if args.action == "list":
        installed = store.installed_models()
        names = {m.name for m in installed}
        installed += [m for m in store.bundled_models() if m.name not in names]
        names |= {m.name for m in installed}
        if not args.available:
            print("installed:" if installed else "installed: none (PocketSphinx is used; "
                  "'models install vosk-model-small-en-us-0.15' adds Vosk)")
            for model in installed:
                where = f"{model.path} (bundled)" if model.bundled else model.path
                print(f"  {model.name:<36} {model.language or '?':<8} {model.engine:<8} {where}")
        print("available:")
        for entry in store.available_models():
            mark = "installed" if entry.name in names else store.format_size(entry.size)
            print(f"  {entry.name:<36} {entry.language:<8} {mark:<10} {entry.description}")
        return 0
    if not args.name:
        raise UsageError(f"models {args.action} needs a NAME")
    if args.action == "remove":
        path = store.remove(args.name)
        print(f"removed {path}")
        return 0
    model = store.install(args.name, expected_sha256=args.sha256, force=args.force,
                          name=args.model_name)
    print(f"installed {model.name} ({model.language or 'language unknown'}) in {model.path}")
    return 0


# ----------------------------------------------------------------------------------- listen

def listen(args: argparse.Namespace, settings: Settings) -> int:
    """The hands-free loop; with no microphone, a typed conversation with spoken replies."""
    from dataclasses import replace

    from .audio import Microphone
    from .reflect_cli import build_dialog

    if args.wake_phrase:
        settings = settings.replace(listen=replace(settings.listen, wake_phrase=args.wake_phrase))
    dialog = build_dialog(settings)
    if args.prepare:
        started = time.perf_counter()
        recognizer_for(settings, dialog.pack, wake_first=_wake_mode(args) == "wake")
        print(f"ready to listen: the recogniser was prepared in "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
        return 0
    if args.typed:
        return _typed_fallback(settings, dialog, args, reason=None)
    try:
        microphone = Microphone.from_settings(settings.audio).start()
    except AudioError as exc:
        return _typed_fallback(settings, dialog, args, reason=exc.format_message())
    try:
        loop = _voice_loop(args, settings, dialog, microphone)
        _stop_on_signals(loop)
        return loop.run(turns=args.turns, timeout_s=args.timeout)
    finally:
        microphone.close()


def _voice_loop(args: argparse.Namespace, settings: Settings, dialog: Dialog,
                microphone: Microphone) -> VoiceLoop:
    from .echo import make_echo_canceller
    from .listen import VoiceLoop

    wake = _wake_mode(args)
    recognizer = recognizer_for(settings, dialog.pack, wake_first=wake == "wake")
    speaker = None if args.no_speech else _speaker_or_none(settings)
    enter = _enter_presses() if wake == "push_to_talk" else None
    return VoiceLoop(
        dialog, recognizer, microphone, speaker, settings.listen, wake=wake,
        rate_step=settings.tts.rate_step,
        echo=make_echo_canceller(recognizer.sample_rate) if speaker is not None else None,
        reminder_check=_reminder_check(), as_json=args.json, enter_pressed=enter,
    )


def _speaker_or_none(settings: Settings) -> Speaker | None:
    """The speaker (its model loaded now, once); None, said on stderr, when it cannot be."""
    from .tts import Speaker

    try:
        _tts_note(settings.tts)
        return Speaker.from_settings(settings.tts, settings.audio)
    except AssistantError as exc:
        _error(f"{exc.format_message()}; replies are printed only")
        return None


def _reminder_check() -> Callable[[], str | None]:
    """Returns the intro to say when the scheduled reflection is due, else None."""
    from .reminder import Reminder
    from .schedule import SystemClock
    from .services import make_services

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


def _wake_mode(args: argparse.Namespace) -> Wake:
    """How a turn starts, from ``listen``'s options."""
    return "push_to_talk" if args.push_to_talk else ("always" if args.no_wake else "wake")


def _enter_presses() -> threading.Event:
    """An event set each time Enter is pressed (push-to-talk), read on a daemon thread."""
    pressed = threading.Event()

    def read() -> None:
        for _ in sys.stdin:
            pressed.set()
    threading.Thread(target=read, name="push-to-talk", daemon=True).start()
    return pressed


def _typed_fallback(settings: Settings, dialog: Dialog, args: argparse.Namespace,
                    reason: str | None) -> int:
    from .commands import _conversation

    if reason is not None:
        what = reason.split("; ", 1)[0]  # the audio message's own advice is "ask -"
        print(f"trust-assistant: {what}: connect one and start again; meanwhile you can type "
              "instead (replies are spoken)", file=sys.stderr, flush=True)
    speak = None if args.no_speech else make_speaker(settings)
    return _conversation(dialog, args.json, speak)


def _stop_on_signals(loop: VoiceLoop) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        loop.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)


def reflect_voice(args: argparse.Namespace, settings: Settings, dialog: Dialog) -> int:
    """``reflect`` by voice: the prompt spoken, the answer heard (or read from --answer-wav)."""
    from .commands import emit

    if args.answer_wav is not None:
        from .wavio import read_wav

        recognizer = recognizer_for(settings, dialog.pack)
        answer = recognizer.transcribe(read_wav(args.answer_wav, recognizer.sample_rate),
                                       "open").text
        first = dialog.start_reflection()
        emit(first, args.json)
        if not answer:
            raise UsageError(f"{args.answer_wav}: no speech was recognised in the answer")
        emit(dialog.handle(answer), args.json)
        return 0
    from .audio import Microphone

    try:
        microphone = Microphone.from_settings(settings.audio).start()
    except AudioError as exc:
        _error(f"{exc.format_message()}; answer in writing with: trust-assistant reflect "
               "--answer \"...\"")
        return 2
    try:
        args.push_to_talk = False
        args.no_wake = True
        loop = _voice_loop(args, settings, dialog, microphone)
        _stop_on_signals(loop)
        loop.reflect_now()
        return 0
    finally:
        microphone.close()


