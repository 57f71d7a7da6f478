"""What the assistant remembers for the user between runs: the reflection schedule, whether
the journal is on, and when the last scheduled prompt was offered.

It lives in ``config_dir()/state.yaml`` (mode 0600, folder 0700), rewritten atomically on
every change. The assistant writes it; a person may read or edit it (the comments here
explain the fields; the file itself has none)::

    # trust-assistant state: written by the assistant (see 'trust-assistant --help').
    version: 1
    reflection:
      time: '21:00'          # local wall-clock time, 24-hour, in quotes
      days: daily            # daily, weekdays, weekends or monday..sunday
      set_at: '2026-05-09T20:14:03+01:00'
      last_offered: '2026-05-09T21:00:00+01:00'
    journal:
      enabled: false

A file that cannot be read is reported as a one-line :class:`ConfigError` that names it and
says how to fix it; it is never silently overwritten.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from ..base.config import config_dir
from ..base.errors import ConfigError
from ..base.schedule import Schedule
from ..base.storage import write_private
from ..base.yamlsource import YamlError, load

VERSION = 1
"""Format version written to the file."""

_HEADER = "# trust-assistant state: written by the assistant (see 'trust-assistant --help').\n"


@dataclass(frozen=True)
class State:
    """The user's persisted assistant state; change it with :meth:`StateStore.update`."""

    schedule: Schedule | None = None
    """The daily reflection reminder, or None when there is none."""
    schedule_set: datetime | None = None
    """When the schedule was last set or changed (aware); earlier times never fire."""
    last_offered: datetime | None = None
    """The scheduled time (aware) of the last prompt offered by the reminder."""
    journal: bool = False
    """The user opted in to keeping reflection answers in the journal."""


def state_file() -> Path:
    """``config_dir()/state.yaml``."""
    return config_dir() / "state.yaml"


class StateStore:
    """Loads and saves :class:`State`; re-reads the file only when it changed on disk."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or state_file()
        self._cached: tuple[tuple[int, int, int], State] | None = None
        self._lock = threading.RLock()

    def load(self) -> State:
        """The current state (defaults when the file does not exist yet)."""
        with self._lock:
            return self._load()

    def _load(self) -> State:
        stamp = self._stamp()
        if stamp is None:
            return State()
        if self._cached is not None and self._cached[0] == stamp:
            return self._cached[1]
        state = parse_state(self._read(), self.path)
        self._cached = (stamp, state)
        return state

    def save(self, state: State) -> None:
        """Write ``state`` atomically (mode 0600, folder 0700)."""
        with self._lock:
            write_private(self.path, dump_state(state))
            stamp = self._stamp()
            self._cached = (stamp, state) if stamp is not None else None

    def update(self, **changes: Any) -> State:
        """Load, change the named fields, save; the new state."""
        with self._lock:
            state = dataclasses.replace(self.load(), **changes)
            self.save(state)
            return state

    def _stamp(self) -> tuple[int, int, int] | None:
        """Identity of the file on disk (inode, mtime in ns, size in bytes), or None."""
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(f"cannot read {self.path}: {exc.strerror}") from None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def _read(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise _broken(self.path, str(exc)) from None


def dump_state(state: State) -> str:
    """The YAML text of ``state``."""
    data: dict[str, Any] = {"version": VERSION}
    if state.schedule is not None:
        reflection: dict[str, Any] = {"time": state.schedule.time, "days": state.schedule.days}
        reflection.update(_stamps(state))
        data["reflection"] = reflection
    elif state.last_offered is not None:
        data["reflection"] = _stamps(state)
    data["journal"] = {"enabled": state.journal}
    return _HEADER + yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def _stamps(state: State) -> dict[str, str]:
    stamps = {"set_at": state.schedule_set, "last_offered": state.last_offered}
    return {key: value.isoformat() for key, value in stamps.items() if value is not None}


def parse_state(text: str, path: Path) -> State:
    """:class:`State` from the YAML ``text`` of ``path``; :class:`ConfigError` if unusable."""
    try:
        data = load(text)
    except YamlError as exc:
        where = f"line {exc.line}: " if exc.line else ""
        raise _broken(path, f"{where}{exc.message}") from None
    if data is None:
        return State()
    if not isinstance(data, dict):
        raise _broken(path, "expected a mapping with 'reflection' and 'journal'")
    try:
        return _from_dict(data)
    except (ValueError, TypeError) as exc:
        raise _broken(path, str(exc)) from None


def _from_dict(data: dict[str, Any]) -> State:
    reflection = _section(data, "reflection")
    journal = _section(data, "journal")
    enabled = journal.get("enabled", False)
    if not isinstance(enabled, bool):
        raise ValueError(f"journal.enabled must be true or false, not {enabled!r}")
    schedule = None
    if reflection.get("time") is not None:
        schedule = Schedule(_text(reflection, "time"), _text(reflection, "days", "daily"))
    return State(
        schedule=schedule,
        schedule_set=_moment(reflection, "set_at"),
        last_offered=_moment(reflection, "last_offered"),
        journal=enabled,
    )


def _section(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ValueError(f"'{key}' must be a mapping")
    return value


def _text(section: dict[str, Any], key: str, default: str | None = None) -> str:
    value = section.get(key, default)
    if isinstance(value, int) and key == "time":
        raise ValueError('reflection.time must be in quotes, like time: "21:00"')
    if not isinstance(value, str):
        raise ValueError(f"reflection.{key} must be text, not {value!r}")
    return value


def _moment(section: dict[str, Any], key: str) -> datetime | None:
    value = section.get(key)
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"reflection.{key} needs a UTC offset, like 2026-05-09T21:00:00+01:00")
    return moment


def _broken(path: Path, problem: str) -> ConfigError:
    return ConfigError(
        f"{path}: {problem}; fix the file or delete it to start over "
        "(your reminder and journal setting are then reset; journal entries are kept)"
    )
