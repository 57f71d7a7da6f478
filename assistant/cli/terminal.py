"""How the command line shows what the assistant does: replies on stdout (or one JSON object
per turn with ``--json``), messages on stderr, and a status line that is drawn only on a
terminal."""

from __future__ import annotations

import json
import sys
from typing import IO, TextIO

from ..dialog.manager import Turn

PROG = "trust-assistant"


def error(message: str) -> None:
    """A one-line error on stderr."""
    print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)


def emit(turn: Turn, as_json: bool, out: TextIO | None = None, label: str = "") -> None:
    """A turn: its reply (after ``label``), or the whole turn as one JSON line."""
    out = out or sys.stdout
    if as_json:
        print(json.dumps(turn.to_json(), ensure_ascii=False), file=out, flush=True)
    elif turn.reply:
        print(f"{label}{turn.reply}", file=out, flush=True)


class StatusLine:
    """One line on the terminal that says what the assistant is doing (only on a terminal)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty()
        self._last = ""

    def show(self, text: str) -> None:
        if not self.enabled or text == self._last:
            return
        self._last = text
        width = 78
        self.stream.write("\r" + text[:width].ljust(width))
        self.stream.flush()

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 78 + "\r")
        self._last = ""

    def notice(self, text: str) -> None:
        """A message for the person at the terminal (or the script's log): always stderr."""
        self.clear()
        print(f"{PROG}: {text}", file=sys.stderr, flush=True)

    def say(self, text: str) -> None:
        """A line that stays (what was heard, a reply)."""
        self.clear()
        print(text, file=self.stream if not self.enabled else sys.stdout, flush=True)


class TerminalEvents:
    """The assistant's events (:class:`assistant.app.assistant.Events`) shown on the terminal: with
    ``as_json`` each turn is one JSON line on stdout; otherwise "you: ..." and "coach: ...".
    """

    def __init__(self, as_json: bool = False, line: StatusLine | None = None) -> None:
        self.as_json = as_json
        self.line = line or StatusLine()

    def status(self, text: str) -> None:
        self.line.show(text)

    def notice(self, text: str) -> None:
        self.line.notice(text)

    def turn(self, turn: Turn) -> None:
        if self.as_json:
            print(json.dumps(turn.to_json(), ensure_ascii=False), flush=True)
        else:
            self.line.say(f"you: {turn.text}")

    def reply(self, text: str) -> None:
        if not self.as_json:
            self.line.say(f"coach: {text}")
