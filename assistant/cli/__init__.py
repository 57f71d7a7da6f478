"""The ``trust-assistant`` command line (also ``python -m assistant``): a thin front end.

It parses the arguments, builds the application core (:class:`assistant.app.assistant.Assistant`),
calls it and formats what comes back. Each command lives in a module of this package
(:mod:`.ask`, :mod:`.voice`, :mod:`.reflect`, :mod:`.journal`, :mod:`.service`), imported only
when it runs, so a text command never loads the speech engines. Every command exits 0 on
success and 2 on bad usage or bad input, with a one-line error on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from .. import __version__
from ..base.config import Settings, load_settings
from ..base.errors import AssistantError, UsageError
from ..speech.stt import ENGINES

PROG = "trust-assistant"
log = logging.getLogger("assistant")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """Flags every command accepts, before or after the command name."""
    default: Any = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("common options")
    group.add_argument("--intents", metavar="DIR", action="append", type=Path,
                       default=argparse.SUPPRESS if suppress else [],
                       help="an intent directory that adds to or overrides the shipped pack "
                            "(repeatable)")
    group.add_argument("--no-default-intents", action="store_true",
                       default=argparse.SUPPRESS if suppress else False,
                       help="use only the --intents packs")
    group.add_argument("--engine", choices=ENGINES, default=default,
                       help="speech recogniser (default: auto)")
    group.add_argument("--model", metavar="PATH", default=default,
                       help="recogniser model directory (Vosk, or Whisper in CTranslate2 "
                            "format) or installed model name")
    group.add_argument("--json", action="store_true",
                       default=argparse.SUPPRESS if suppress else False,
                       help="print one JSON object per result")
    group.add_argument("--config", metavar="FILE", type=Path, default=default,
                       help="configuration file (default: the user's config.yaml)")
    group.add_argument("--device", metavar="DEVICE", default=default,
                       help="microphone: index or part of its name (see 'devices')")
    group.add_argument("-v", "--verbose", action="count",
                       default=argparse.SUPPRESS if suppress else 0,
                       help="log what happens (repeat for more)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="An offline voice coach for rebuilding trust in a close relationship. "
                    "Nothing you say leaves this machine.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _common(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_text: str, func: str) -> argparse.ArgumentParser:
        """A sub-command; ``func`` is "module:function", imported only when it runs, so a
        text command never loads the speech engines."""
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _common(sub, suppress=True)
        sub.set_defaults(func=func)
        return sub

    listen = command("listen", "hands-free conversation on the microphone", "voice:listen")
    listen.add_argument("--push-to-talk", action="store_true",
                        help="press Enter to start each turn instead of saying the wake phrase")
    listen.add_argument("--no-wake", action="store_true",
                        help="conversation mode: every utterance is a request")
    listen.add_argument("--wake-phrase", metavar="PHRASE", help="wake phrase (default: hey coach)")
    listen.add_argument("--turns", type=_positive_int, metavar="N", help="exit after N turns")
    listen.add_argument("--timeout", type=_positive_float, metavar="S",
                        help="exit after S seconds")
    listen.add_argument("--no-speech", action="store_true", help="print replies, do not speak")
    listen.add_argument("--typed", action="store_true",
                        help="typed conversation with spoken replies (no microphone)")
    listen.add_argument("--prepare", action="store_true",
                        help="build the matcher and the recogniser's phrase model for the pack "
                             "now (kept in the cache, so the next start is quick), then exit")

    ask = command("ask", "one turn from text, WAV files or stdin; with no text, a typed "
                  "conversation", "ask:ask")
    ask.add_argument("text", nargs="*", help="what you would say; '-' reads one utterance per "
                     "line from stdin")
    ask.add_argument("--wav", nargs="+", type=Path, metavar="FILE", help="recognise WAV files")
    ask.add_argument("--speak", action="store_true", help="also speak the replies")

    transcribe = command("transcribe", "speech to text only", "voice:transcribe")
    transcribe.add_argument("files", nargs="+", type=Path, metavar="FILE")
    transcribe.add_argument("--open", action="store_true",
                            help="free-form speech: do not bias towards the intent phrases")

    say = command("say", "speak text, or write the speech to a WAV file", "voice:say")
    say.add_argument("text", nargs="*")
    say.add_argument("--out", type=Path, metavar="FILE.wav", help="write a WAV file instead")
    say.add_argument("--voice", help="voice id or name")
    say.add_argument("--rate", type=_positive_int, help="words per minute")
    say.add_argument("--list-voices", action="store_true", help="list the voices and exit")
    say.add_argument("--prepare", action="store_true",
                     help="say every reply of the pack once in the configured voice and keep it "
                          "in the cache, so that replies start at once (Piper), then exit")

    reflect = command("reflect", "one reflection session now", "reflect:reflect")
    reflect.add_argument("--answer", metavar="TEXT", help="your answer, instead of speaking it")
    reflect.add_argument("--answer-wav", metavar="FILE", type=Path,
                         help="your spoken answer in a WAV file")
    reflect.add_argument("--no-speech", action="store_true", help="print, do not speak")

    intents = command("intents", "check or list the loaded intent pack", "ask:intents")
    intents.add_argument("action", choices=["check", "list"])

    models = command("models", "manage speech models (Vosk, Whisper)", "voice:models")
    models.add_argument("action", choices=["list", "install", "remove"])
    models.add_argument("name", nargs="?", help="catalogue NAME, URL, .zip or directory")
    models.add_argument("--sha256", help="expected checksum when installing from a URL or zip")
    models.add_argument("--force", action="store_true", help="reinstall over an installed model")
    models.add_argument("--name", dest="model_name", help="name to install the model under")
    models.add_argument("--available", action="store_true",
                        help="list: only the models that can be downloaded")

    command("devices", "list audio input and output devices", "voice:devices")

    journal = command("journal", "the private journal of reflection answers (opt-in)",
                      "journal:journal")
    journal.add_argument("action", choices=["list", "export", "delete", "enable", "disable",
                                            "status"])
    journal.add_argument("entry", nargs="?", help="entry ID (for delete)")
    journal.add_argument("--all", action="store_true", help="delete every entry")
    journal.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    journal.add_argument("--format", choices=["markdown", "json"], default="markdown")
    journal.add_argument("--out", type=Path, metavar="FILE", help="export to a file")

    service = command("service", "start the assistant with your session (systemd user unit)",
                      "service:service")
    service.add_argument("action", choices=["install", "uninstall", "status"])
    return parser


def _positive(kind: Callable[[str], float], what: str) -> Callable[[str], float]:
    def convert(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not {what}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"'{text}' must be more than 0")
        return value
    return convert


_positive_int = _positive(int, "a whole number")
_positive_float = _positive(float, "a number")


def settings_from_args(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config)
    stt = settings.stt
    if args.engine:
        stt = stt.__class__(**{**stt.__dict__, "engine": args.engine})
    if args.model:
        stt = stt.__class__(**{**stt.__dict__, "model": args.model})
    audio = settings.audio
    if args.device is not None:
        audio = audio.__class__(**{**audio.__dict__, "input_device": args.device})
    return settings.replace(
        intents_dirs=(*settings.intents_dirs, *args.intents),
        default_intents=settings.default_intents and not args.no_default_intents,
        stt=stt, audio=audio,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format=f"{PROG}: %(levelname)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        settings = settings_from_args(args)
        module, _, name = args.func.partition(":")
        run: Callable[[argparse.Namespace, Settings], int] = getattr(
            importlib.import_module(f".{module}", __package__), name)
        return run(args, settings)
    except AssistantError as exc:
        print(f"{PROG}: error: {exc.format_message()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


__all__ = ["UsageError", "build_parser", "main"]
