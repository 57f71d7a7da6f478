"""What each command of the command line does (argument parsing lives in :mod:`.cli`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO

from .config import Settings
from .dialog import Action, Dialog, Turn
from .errors import AssistantError, UsageError
from .runtime import load_pack

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


def emit(turn: Turn, as_json: bool, out: TextIO = sys.stdout, label: str = "") -> None:
    if as_json:
        print(json.dumps(turn.to_json(), ensure_ascii=False), file=out, flush=True)
    elif turn.reply:
        print(f"{label}{turn.reply}", file=out, flush=True)


# ----------------------------------------------------------------------------------- ask

def ask(args: argparse.Namespace, settings: Settings) -> int:
    if args.wav and args.text:
        raise UsageError("give either TEXT or --wav FILE..., not both")
    if args.wav:
        from .voice import ask_wavs

        return ask_wavs(args, settings)
    from .reflect_cli import build_dialog  # with the reminder and journal services

    speaker = _speaker(settings) if args.speak else None
    if args.text == ["-"]:
        dialog = build_dialog(settings)
        return _ask_lines(dialog, _stdin_lines(), args.json, speaker)
    if not args.text:
        dialog = build_dialog(settings)
        if sys.stdin.isatty():
            return _conversation(dialog, args.json, speaker)
        return _ask_lines(dialog, _stdin_lines(), args.json, speaker)
    dialog = build_dialog(settings)
    turn = respond(dialog, " ".join(args.text))
    emit(turn, args.json)
    if speaker is not None:
        speaker(turn)
    return 0


def _stdin_lines() -> Iterator[tuple[int, str | None]]:
    """(line number, text) for each line of stdin; text is None when it is not UTF-8."""
    for number, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None


def _ask_lines(
    dialog: Dialog, lines: Iterable[tuple[int, str | None]], as_json: bool,
    speaker: Callable[[Turn], None] | None = None,
) -> int:
    """One turn per non-empty line; a bad line is reported and skipped, the rest go on."""
    status = 0
    for number, line in lines:
        if line is not None and not line.strip():
            continue
        try:
            if line is None:
                raise UsageError(f"line {number}: input is not UTF-8 text")
            turn = respond(dialog, line, f"line {number}")
        except AssistantError as exc:
            print(f"trust-assistant: error: {exc.format_message()}", file=sys.stderr, flush=True)
            status = 2
            continue
        emit(turn, as_json)
        if speaker is not None:
            speaker(turn)
    return status


def _conversation(dialog: Dialog, as_json: bool,
                  speaker: Callable[[Turn], None] | None = None) -> int:
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
            turn = respond(dialog, line)
        except AssistantError as exc:
            print(f"trust-assistant: error: {exc.format_message()}", file=sys.stderr)
            continue
        emit(turn, as_json, label="" if as_json else "coach> ")
        if speaker is not None:
            speaker(turn)
        if Action.END in turn.actions:
            return 0


def _speaker(settings: Settings) -> Callable[[Turn], None]:
    from .voice import ReplySpeaker

    return ReplySpeaker(settings)


# ------------------------------------------------------------------------------- intents

def intents(args: argparse.Namespace, settings: Settings) -> int:
    from . import lint

    if args.action == "list":
        pack = load_pack(settings)
        return lint.list_pack(pack, args.json)
    return lint.check(settings, args.json)
