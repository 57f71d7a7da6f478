"""The voice commands: listen, transcribe, say, devices, models.

Each builds one :class:`~assistant.app.assistant.Assistant` and reuses what it loads (pack,
recogniser, voice) for every file or turn. Engines are imported only by the commands that use them.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from dataclasses import replace
from types import FrameType
from typing import TYPE_CHECKING

from ..app.assistant import Assistant
from ..base.config import Settings
from ..base.errors import AssistantError, AudioError, UsageError
from .ask import conversation
from .terminal import PROG, TerminalEvents, error

if TYPE_CHECKING:
    from ..loop.listen import VoiceLoop
    from ..loop.wake import Wake


def transcribe(args: argparse.Namespace, settings: Settings) -> int:
    app = Assistant(settings, TerminalEvents(args.json))
    app.recognizer(open_only=args.open)  # loaded once, before the first file
    status = 0
    for path in args.files:
        try:
            heard = app.transcribe(path, open_only=args.open)
        except AssistantError as exc:
            error(exc.format_message())
            status = 2
            continue
        if args.json:
            print(json.dumps({"file": str(path), "text": heard.text,
                              "confidence": round(heard.confidence, 3)}, ensure_ascii=False),
                  flush=True)
        else:
            print(f"{path}: {heard.text}", flush=True)
    return status


def say(args: argparse.Namespace, settings: Settings) -> int:
    app = Assistant(settings, TerminalEvents())
    tts = app.tts_settings(args.voice, args.rate)
    if args.list_voices:
        for engine, voice in app.voices(tts):
            languages = ", ".join(voice.languages)
            print(f"{voice.id:<24} {voice.name:<28} {engine:<8} {languages}")
        return 0
    if args.prepare:
        app = Assistant(settings, TerminalEvents()).load()
        prepared = app.prepare_voice()
        if prepared is None:
            print("nothing to prepare: the voice makes each reply quickly (not Piper)",
                  file=sys.stderr)
        else:
            print(f"{prepared[0]} sentences of the replies said once and kept, so that replies "
                  f"start at once ({prepared[1]:.0f} s)", file=sys.stderr)
        return 0
    text = " ".join(args.text).strip()
    if not text:
        raise UsageError(f"nothing to say: give the text, e.g. {PROG} say \"hello\"")
    if args.out is not None and args.out.suffix.lower() != ".wav":
        raise UsageError(f"{args.out}: the output must be a .wav file")
    app.say(text, tts, args.out)
    if args.out is not None:
        print(f"wrote {args.out}")
    return 0


def devices(args: argparse.Namespace, settings: Settings) -> int:
    from ..audio.devices import format_devices

    found = Assistant(settings).devices()
    if args.json:
        for device in found:
            print(json.dumps(device.__dict__, default=str))
    else:
        print(format_devices(found) if found else "no audio devices found")
    return 0


def models(args: argparse.Namespace, settings: Settings) -> int:
    from ..speech.models import format_size, piper_voice_file

    app = Assistant(settings)
    if args.action == "list":
        installed, available = app.models()
        names = {m.name for m in installed}
        if not args.available:
            print("installed:" if installed else "installed: none (PocketSphinx is used; "
                  "'models install vosk-model-small-en-us-0.15' adds Vosk)")
            for model in installed:
                where = f"{model.path} (bundled)" if model.bundled else model.path
                print(f"  {model.name:<36} {model.language or '?':<8} {model.engine:<8} {where}")
        print("available:")
        for entry in available:
            mark = "installed" if entry.name in names else format_size(entry.size)
            print(f"  {entry.name:<36} {entry.language:<8} {mark:<10} {entry.description}")
        return 0
    if not args.name:
        raise UsageError(f"models {args.action} needs a NAME")
    if args.action == "remove":
        print(f"removed {app.remove_model(args.name)}")
        return 0
    model = app.install_model(args.name, args.sha256, args.force, args.model_name)
    print(f"installed {model.name} ({model.language or 'language unknown'}) in {model.path}")
    voice = piper_voice_file(model.path) if model.engine == "piper" else None
    if voice is not None:
        name = voice.name.removesuffix(".onnx")
        print(f"speak with it: trust-assistant say --voice {name} \"hello\", or set "
              f"'tts: {{voice: {name}}}' in the config")
    return 0


# ----------------------------------------------------------------------------------- listen

def listen(args: argparse.Namespace, settings: Settings) -> int:
    """The hands-free loop; with no microphone, a typed conversation with spoken replies."""
    if args.wake_phrase:
        settings = settings.replace(listen=replace(settings.listen, wake_phrase=args.wake_phrase))
    app = Assistant(settings, TerminalEvents(args.json))
    app.warm_up(hearing=not args.typed, speaking=not (args.no_speech or args.prepare)).load()
    wake = wake_mode(args)
    if args.prepare:
        seconds = app.prepare(wake_first=wake == "wake")
        print(f"ready to listen: the recogniser was prepared in {seconds:.1f} s",
              file=sys.stderr)
        return 0
    if args.typed:
        return _typed(app, args, reason=None)
    try:
        microphone = app.open_microphone()
    except AudioError as exc:
        return _typed(app, args, reason=exc.format_message())
    try:
        enter = _enter_presses() if wake == "push_to_talk" else None
        loop = app.voice_loop(microphone, wake, speak=not args.no_speech, enter_pressed=enter)
        stop_on_signals(loop)
        return loop.run(turns=args.turns, timeout_s=args.timeout)
    finally:
        microphone.close()


def wake_mode(args: argparse.Namespace) -> Wake:
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


def _typed(app: Assistant, args: argparse.Namespace, reason: str | None) -> int:
    """A typed conversation with spoken replies (no microphone, or ``--typed``)."""
    if reason is not None:
        what = reason.split("; ", 1)[0]  # the audio message's own advice is "ask -"
        print(f"{PROG}: {what}: connect one and start again; meanwhile you can type "
              "instead (replies are spoken)", file=sys.stderr, flush=True)
    return conversation(app, args.json, None if args.no_speech else app.reply_speaker())


def stop_on_signals(loop: VoiceLoop) -> None:
    """SIGINT and SIGTERM end the loop cleanly (it stops speaking at once)."""
    def handler(signum: int, frame: FrameType | None) -> None:
        loop.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
