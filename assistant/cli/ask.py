"""``ask`` (one turn from text, WAV files or stdin; a typed conversation) and ``intents``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path

from ..app.assistant import Assistant
from ..base.config import Settings
from ..base.errors import AssistantError, UsageError
from ..dialog.manager import Action, Turn
from .terminal import PROG, TerminalEvents, emit, error

Speak = Callable[[Turn], None]


def ask(args: argparse.Namespace, settings: Settings) -> int:
    if args.wav and args.text:
        raise UsageError("give either TEXT or --wav FILE..., not both")
    app = Assistant(settings, TerminalEvents(args.json))
    if args.wav or args.speak:
        app.warm_up(hearing=bool(args.wav), speaking=args.speak)
    app.load()
    if args.wav:
        app.recognizer()  # loaded once, before the first file
        return ask_wavs(app, args.wav, args.json, app.reply_speaker() if args.speak else None)
    speaker = app.reply_speaker() if args.speak else None
    if args.text == ["-"] or (not args.text and not sys.stdin.isatty()):
        return ask_lines(app, stdin_lines(), args.json, speaker)
    if not args.text:
        return conversation(app, args.json, speaker)
    turn = app.ask(" ".join(args.text))
    emit(turn, args.json)
    if speaker is not None:
        speaker(turn)
    return 0


def ask_wavs(app: Assistant, files: Iterable[Path], as_json: bool, speaker: Speak | None) -> int:
    """One spoken turn per WAV file; a bad file is reported and skipped."""
    return _each((partial(app.hear, path) for path in files), as_json, speaker)


def stdin_lines() -> Iterator[tuple[int, str | None]]:
    """(line number, text) for each line of stdin; text is None when it is not UTF-8."""
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None


def ask_lines(app: Assistant, lines: Iterable[tuple[int, str | None]], as_json: bool,
              speaker: Speak | None = None) -> int:
    """One turn per non-empty line; a bad line is reported and skipped, the rest go on."""
    def turn(number: int, line: str | None) -> Turn:
        if line is None:
            raise UsageError(f"line {number}: input is not UTF-8 text")
        return app.ask(line, f"line {number}")

    return _each((partial(turn, number, line) for number, line in lines
                  if line is None or line.strip()), as_json, speaker)


def _each(turns: Iterable[Callable[[], Turn]], as_json: bool, speaker: Speak | None) -> int:
    """Take each turn and show it; one that fails is reported and the rest go on. Exit status
    2 if any failed."""
    status = 0
    for take in turns:
        try:
            turn = take()
        except AssistantError as exc:
            error(exc.format_message())
            status = 2
            continue
        emit(turn, as_json)
        if speaker is not None:
            speaker(turn)
    return status


def conversation(app: Assistant, as_json: bool, speaker: Speak | None = None) -> int:
    """The typed conversation: a prompt, a reply, until 'bye' or Ctrl-D."""
    print("Type what you would say; 'help' for ideas, 'bye' or Ctrl-D to leave.", flush=True)
    while True:
        try:
            line = input("you> ")
        except EOFError:
            print()
            return 0
        if not line.strip():
            continue
        try:
            turn = app.ask(line)
        except AssistantError as exc:
            print(f"{PROG}: error: {exc.format_message()}", file=sys.stderr)
            continue
        emit(turn, as_json, label="" if as_json else "coach> ")
        if speaker is not None:
            speaker(turn)
        if Action.END in turn.actions:
            return 0


# ------------------------------------------------------------------------------- intents

def intents(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from ..app import lint
    from ..app.runtime import load_pack

    if args.action == "list":
        rows = lint.pack_rows(load_pack(settings))
        if args.json:
            for row in rows:
                print(json.dumps(row, ensure_ascii=False))
            return 0
        width = max(len(str(r["name"])) for r in rows)
        print(f"{'intent':<{width}}  templates  sentences  replies  prompts  topic")
        for row in rows:
            flags = (" [safety]" if row["safety"] else
                     (f" [{row['context']}]" if row["context"] else ""))
            print(f"{row['name']:<{width}}  {row['templates']:>9}  {row['sentences']:>9}  "
                  f"{row['replies']:>7}  {row['prompts']:>7}  {row['topic']}{flags}")
        return 0
    report = lint.check(settings)
    for finding in report.findings:
        print(json.dumps({"level": finding.level, "message": finding.message})
              if args.json else finding)
    if report.summary is not None and not args.json:
        print(report.summary)
    return 2 if report.failed else 0
