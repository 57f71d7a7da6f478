"""When to offer the daily reflection: the schedule, the clock, and the reminder.

A :class:`Schedule` is a wall-clock time ("HH:MM") and a set of days. Its times are computed
in the local wall-clock time of the datetime it is asked about (a ``zoneinfo`` zone), so
"21:00" stays 21:00 across daylight-saving changes. The recurrence comes from
``dateutil.rrule``; the daylight-saving edge cases are settled here:

- a time that does not exist (the spring-forward gap) moves to the first valid minute after
  it (01:30 on the day London skips 01:00-02:00 fires at 02:00 BST);
- a time that happens twice (the autumn fall-back) fires once, at its first occurrence.

Aware datetimes that share a ``tzinfo`` compare by wall clock in Python, not by instant, so
every comparison and subtraction here goes through UTC.

:class:`Reminder` answers "is a prompt due now?" from the schedule kept in the user's state
(:mod:`assistant.memory.state`) and remembers each offered prompt there, so one scheduled time fires
once, and after a sleep or a shutdown at most the most recent missed prompt is offered.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from datetime import time as dtime
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import DAILY, FR, MO, SA, SU, TH, TU, WE, rrule, weekday

from .lang.en import day_part, spoken_time

DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAYS = ("daily", "weekdays", "weekends", *DAY_NAMES)
"""Accepted values of :attr:`Schedule.days` (what the matcher puts in the ``days`` slot)."""

_WEEKDAYS: dict[str, tuple[weekday, ...]] = {
    "daily": (MO, TU, WE, TH, FR, SA, SU),
    "weekdays": (MO, TU, WE, TH, FR),
    "weekends": (SA, SU),
    **{name: (day,) for name, day in zip(DAY_NAMES, (MO, TU, WE, TH, FR, SA, SU), strict=True)},
}

MISSED_WINDOW = timedelta(hours=12)
"""A scheduled prompt missed (asleep, switched off) longer ago than this is not offered."""

LATE_AFTER = timedelta(minutes=5)
"""A prompt offered more than this after its time is introduced as a missed one."""

_MAX_GAP_MINUTES = 48 * 60
"""Longest daylight-saving or zone-change gap searched for a valid minute (minutes)."""


class Clock(Protocol):
    """Where "now" comes from; tests hand in a clock they control."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in the user's local zone."""


class SystemClock:
    """The machine's clock in the local zone (``TZ``, else ``/etc/localtime``)."""

    def __init__(self, zone: tzinfo | None = None) -> None:
        self.zone = zone or local_zone()

    def now(self) -> datetime:
        return datetime.now(self.zone)


def local_zone() -> tzinfo:
    """The user's local zone as a ``zoneinfo`` zone (so DST is known), else a fixed offset."""
    key = os.environ.get("TZ", "").lstrip(":")
    try:
        if key and not key.startswith("/"):
            return ZoneInfo(key)
        path = key or "/etc/localtime"
        target = os.path.realpath(path)
        if "/zoneinfo/" in target:
            return ZoneInfo(target.split("/zoneinfo/", 1)[1])
        with open(path, "rb") as handle:
            return ZoneInfo.from_file(handle, key="localtime")
    except (OSError, ValueError, ZoneInfoNotFoundError):
        return datetime.now().astimezone().tzinfo or timezone.utc


_DIGITS = re.compile(r"^[0-9]+$")
"""ASCII digits only: ``str.isdigit`` also takes "²", which ``int`` refuses."""


def parse_hhmm(text: str) -> dtime:
    """``"21:00"`` -> ``dtime(21, 0)``; :class:`ValueError` with a plain message otherwise."""
    hours, sep, minutes = text.strip().partition(":")
    if not (sep and _DIGITS.match(hours) and _DIGITS.match(minutes) and len(minutes) == 2
            and len(hours) <= 2):
        raise ValueError(f'"{text}" is not a time like "21:00"')
    if int(hours) > 23 or int(minutes) > 59:
        raise ValueError(f'"{text}" is not a time of day (00:00 to 23:59)')
    return dtime(int(hours), int(minutes))


@dataclass(frozen=True)
class Schedule:
    """The daily reflection: at ``time`` ("HH:MM", 24-hour, local) on ``days``."""

    time: str
    """Local wall-clock time, "HH:MM" (24-hour)."""
    days: str = "daily"
    """daily, weekdays, weekends, or one day name (monday..sunday)."""

    def __post_init__(self) -> None:
        at = parse_hhmm(self.time)
        object.__setattr__(self, "time", f"{at.hour:02d}:{at.minute:02d}")
        if self.days not in DAYS:
            raise ValueError(f'"{self.days}" is not one of: {", ".join(DAYS)}')

    @property
    def clock_time(self) -> dtime:
        return parse_hhmm(self.time)

    def next_time(self, after: datetime) -> datetime:
        """The first scheduled moment strictly after ``after`` (aware), in ``after``'s zone."""
        zone = _zone_of(after)
        start = _wall(after, zone) - timedelta(days=1)
        for naive in self._rule(start).xafter(start, count=800, inc=True):
            moment = resolve_local(naive, zone)
            if to_utc(moment) > to_utc(after):
                return moment
        raise ValueError(f"no time matches the schedule {self}")  # unreachable: 800 days

    def previous_time(self, at: datetime) -> datetime | None:
        """The latest scheduled moment at or before ``at`` (aware), within the last 8 days."""
        zone = _zone_of(at)
        wall = _wall(at, zone)
        naive_times = self._rule(wall - timedelta(days=8)).between(
            wall - timedelta(days=8), wall + timedelta(days=1), inc=True)
        moments = [resolve_local(n, zone) for n in naive_times]
        past = [m for m in moments if to_utc(m) <= to_utc(at)]
        return max(past, key=to_utc) if past else None

    def _rule(self, start: datetime) -> rrule:
        at = self.clock_time
        day_start = start.replace(hour=0, minute=0, second=0, microsecond=0)
        return rrule(DAILY, dtstart=day_start, byweekday=_WEEKDAYS[self.days],
                     byhour=at.hour, byminute=at.minute, bysecond=0)

    def describe(self) -> str:
        """In plain spoken words: "every evening at 9 pm", "every weekday at 7 am"."""
        at = self.clock_time
        when = spoken_time(at)
        if self.days == "daily":
            return f"every day at {when}" if at == dtime(12) else f"every {day_part(at)} at {when}"
        if self.days == "weekdays":
            return f"every weekday at {when}"
        if self.days == "weekends":
            return f"every Saturday and Sunday at {when}"
        return f"every {self.days.capitalize()} at {when}"


def resolve_local(naive: datetime, zone: tzinfo) -> datetime:
    """A naive local wall-clock time as an aware one: the first occurrence of an ambiguous
    time, the first valid minute after a nonexistent one."""
    moment = naive.replace(tzinfo=zone, fold=0)
    step = timedelta(minutes=1)
    candidate = naive.replace(second=0, microsecond=0)
    for _ in range(_MAX_GAP_MINUTES):
        if _exists(moment):
            return moment
        candidate += step
        moment = candidate.replace(tzinfo=zone, fold=0)
    return naive.replace(tzinfo=zone, fold=0)


def _exists(moment: datetime) -> bool:
    """True when the aware local ``moment`` is a real wall-clock time in its zone."""
    back = to_utc(moment).astimezone(moment.tzinfo)
    return back.replace(tzinfo=None) == moment.replace(tzinfo=None)


def to_utc(moment: datetime) -> datetime:
    _zone_of(moment)
    return moment.astimezone(timezone.utc)


def _zone_of(moment: datetime) -> tzinfo:
    zone = moment.tzinfo
    if zone is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no timezone; use an aware datetime")
    return zone


def _wall(moment: datetime, zone: tzinfo) -> datetime:
    return to_utc(moment).astimezone(zone).replace(tzinfo=None)


def upcoming(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` scheduled moments after ``after`` (for status displays and tests)."""
    moments: list[datetime] = []
    current = after
    for _ in range(count):
        current = schedule.next_time(current)
        moments.append(current)
    return moments

