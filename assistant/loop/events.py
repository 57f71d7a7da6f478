"""What the voice loop hears and what it reports: :class:`Utterance` and :class:`LoopEvents`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..dialog.manager import Turn


@dataclass(frozen=True)
class Utterance:
    text: str
    confidence: float
    ended_at: float
    """``time.monotonic()`` when the speech ended."""
    barge_in: bool = False
    """Spoken over the assistant's own reply."""
    pcm: bytes = b""
    """The audio of the utterance (16-bit mono at the recogniser's rate)."""
    silence_s: float = 0.0
    """How long the speaker had been silent when the utterance was judged complete."""
    alternatives: tuple[str, ...] = ()
    """Other readings of the same audio (see :attr:`Transcript.alternatives`)."""


class LoopEvents(Protocol):
    """What the loop reports as it goes. It never prints: a front end shows these (the command
    line's :class:`assistant.cli.terminal.TerminalEvents` prints them)."""

    def status(self, text: str) -> None:
        """What it is doing now ("listening...", "heard: ..."); '' when nothing."""

    def notice(self, text: str) -> None:
        """A message for the person: how to talk, an error, speech output failing."""

    def turn(self, turn: Turn) -> None:
        """A request was handled: what was heard, the intent, the reply."""

    def reply(self, text: str) -> None:
        """A reply is about to be said."""


class NoEvents:
    """Reports nothing (a loop run by a program that only wants its effects)."""

    def status(self, text: str) -> None:
        pass

    def notice(self, text: str) -> None:
        pass

    def turn(self, turn: Turn) -> None:
        pass

    def reply(self, text: str) -> None:
        pass
