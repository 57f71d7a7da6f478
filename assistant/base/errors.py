"""Every error the assistant reports to a person, under one root.

Messages are formatted in one place (:meth:`AssistantError.format_message`) so the command line
can print them as a single line and exit with status 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class AssistantError(Exception):
    """Root of all errors the assistant reports; ``str()`` is the one-line message."""

    exit_code = 2

    def format_message(self) -> str:
        return " ".join(str(self).split())


@dataclass(frozen=True)
class Location:
    """Where in an intent file something is: file, 1-based line, intent name."""

    file: Path | str | None = None
    line: int | None = None
    intent: str | None = None

    def prefix(self) -> str:
        parts = []
        if self.file is not None:
            where = str(self.file)
            if self.line is not None:
                where += f":{self.line}"
            parts.append(where)
        if self.intent is not None:
            parts.append(f"intent '{self.intent}'")
        return ": ".join(parts)


class IntentFileError(AssistantError):
    """A problem in an intent pack, located by file, line and intent."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.message = message
        self.location = location or Location()
        prefix = self.location.prefix()
        super().__init__(f"{prefix}: {message}" if prefix else message)


class TemplateError(AssistantError):
    """A template that does not parse; the loader adds the location."""

    def __init__(self, message: str, template: str, hint: str = "") -> None:
        """``hint``: what to do, put after the (shortened) example."""
        self.message = message
        self.template = template
        after = f"; {hint}" if hint else ""
        super().__init__(f'{message} in example "{shorten(template)}"{after}')


def amount(number: int) -> str:
    """``number`` for a message: in digits, or "more than 10^15" when longer."""
    return str(number) if number < 10**15 else "more than 10^15"


def shorten(text: str, limit: int = 80) -> str:
    """``text`` cut to about ``limit`` characters for a one-line message."""
    if len(text) <= limit:
        return text
    text = " ".join(text[: limit * 4].split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class UsageError(AssistantError):
    """Bad command-line usage or bad input."""


class ConfigError(AssistantError):
    """A configuration file or value that cannot be used."""


class AudioError(AssistantError):
    """Audio input or output that cannot be read, written, opened or played."""


class EngineError(AssistantError):
    """A speech engine that cannot be loaded or used."""


class ModelError(AssistantError):
    """A speech model that is missing, corrupt, or cannot be installed."""


class JournalError(AssistantError):
    """The private journal cannot be read or written."""
