"""The dialog's services for real: the reflection reminder and the journal, with short
spoken replies in plain words.

:class:`AssistantServices` implements :class:`assistant.dialog.manager.Services`. Its replies are
meant to be spoken, so they hold no paths or command-line flags, and times are said the way people
say them ("9 pm", "8:30 am", "noon"). A problem with the state file or the journal is logged
and answered with a short apology; it never ends the conversation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from ..base.errors import AssistantError
from ..base.lang.en import message
from ..base.schedule import Clock, Schedule, SystemClock
from .journal import Entry, Journal
from .reminder import Reminder
from .state import State, StateStore

log = logging.getLogger(__name__)

MAX_READ_WORDS = 60
"""Longest answer read back by "read me my last entry" (words); longer ones are shortened."""

EXAMPLE = message("schedule_example")
"""A schedule phrase to suggest when the person has to say it again."""


class AssistantServices:
    """Reminder and journal services for one running assistant.

    ``state`` keeps the schedule and the journal opt-in, ``journal`` the entries, and
    ``clock`` says when "now" is (a fake one in tests).
    """

    def __init__(self, state: StateStore, journal: Journal, clock: Clock) -> None:
        self.state = state
        self.journal = journal
        self.clock = clock

    @property
    def reminder(self) -> Reminder:
        """The scheduled-prompt reminder over the same state."""
        return Reminder(self.state)

    # ------------------------------------------------------------------------------ schedule

    def schedule(self, slots: dict[str, str]) -> str | None:
        """Set, move, cancel or report the reflection reminder; the spoken reply."""
        handlers: dict[str, Callable[[dict[str, str]], str]] = {
            "cancel": self._cancel, "query": self._query, "move": self._move,
        }
        handler = handlers.get(slots.get("action", ""), self._set)
        try:
            return handler(slots)
        except AssistantError as exc:
            log.error("%s", exc.format_message())
            return message("sorry_settings")

    def _set(self, slots: dict[str, str]) -> str:
        current = self.state.load().schedule
        if "time" not in slots:
            if current is not None and "days" in slots:
                return self._store(_changed(current, slots), "schedule_set")
            return message("schedule_what_time", example=EXAMPLE)
        return self._store(_changed(None, slots), "schedule_set")

    def _move(self, slots: dict[str, str]) -> str:
        current = self.state.load().schedule
        if "time" not in slots and "days" not in slots:
            return message("schedule_move_to")
        if current is None:
            if "time" not in slots:
                return message("schedule_none_yet", example=EXAMPLE)
            return self._store(_changed(None, slots), "schedule_set_instead")
        if "time" in slots and slots.get("part_of_day") == "unsaid":
            slots = {**slots, "time": _nearest_reading(slots["time"], current.time)}
        return self._store(_changed(current, slots), "schedule_moved")

    def _cancel(self, slots: dict[str, str]) -> str:
        if self.state.load().schedule is None:
            return message("schedule_none_to_cancel")
        self.state.update(schedule=None, schedule_set=None)
        return message("schedule_cancelled")

    def _query(self, slots: dict[str, str]) -> str:
        current = self.state.load().schedule
        if current is None:
            return message("schedule_query_none", example=EXAMPLE)
        return message("schedule_is", when=current.describe())

    def _store(self, schedule: Schedule | None, reply: str) -> str:
        """Save ``schedule``; the message ``reply`` with its time."""
        if schedule is None:
            return message("schedule_no_time", example=EXAMPLE)
        self.state.update(schedule=schedule, schedule_set=self.clock.now())
        return message(reply, when=schedule.describe())

    # ------------------------------------------------------------------------------- journal

    def journal_set(self, enabled: bool) -> str | None:
        """Turn the journal on or off; the spoken reply."""
        try:
            was = self.state.load().journal
            self.state.update(journal=enabled)
            kept = self.journal.count()
        except AssistantError as exc:
            log.error("%s", exc.format_message())
            return message("sorry_settings")
        return _journal_on(was) if enabled else _journal_off(was, kept)

    def journal_save(self, prompt: str, answer: str) -> bool | None:
        """Keep an answer when the journal is on: True if it was kept, False if it could not
        be (one line on the log says why), None when the journal is off."""
        try:
            if not self.state.load().journal:
                return None
            self.journal.add(prompt, answer, when=self.clock.now())
        except AssistantError as exc:
            log.error("the answer was not kept: %s", exc.format_message())
            return False
        return True

    def journal_last(self) -> str | None:
        """A short spoken summary of the last journal entry: its date, prompt and answer."""
        try:
            state = self.state.load()
            entry = self.journal.last()
        except AssistantError as exc:
            log.error("%s", exc.format_message())
            return message("sorry_journal")
        if entry is None:
            return _empty_journal(state)
        return _read_entry(entry, self.clock.now())


def make_services(clock: Clock | None = None) -> AssistantServices:
    """The services over the user's own state file and journal."""
    return AssistantServices(StateStore(), Journal(), clock or SystemClock())


def _nearest_reading(time: str, current: str) -> str:
    """``time`` said without a part of the day ("move it to ten"): of its morning and evening
    readings, the one nearer ``current`` (a 21:00 reminder moved "to ten" goes to 22:00)."""
    hour, minute = (int(part) for part in time.split(":"))
    if not 1 <= hour <= 11:
        return time
    now_hour, now_minute = (int(part) for part in current.split(":"))
    now = now_hour * 60 + now_minute

    def distance(h: int) -> int:
        gap = abs(h * 60 + minute - now)
        return min(gap, 24 * 60 - gap)

    return f"{min((hour, hour + 12), key=distance):02d}:{minute:02d}"


def _changed(current: Schedule | None, slots: dict[str, str]) -> Schedule | None:
    """``current`` (or a daily schedule) with the time and days said in ``slots``; None if
    they are not usable."""
    time = slots.get("time") or (current.time if current else "")
    days = slots.get("days") or (current.days if current else "daily")
    try:
        return Schedule(time, days)
    except ValueError:
        return None


def _journal_on(was: bool) -> str:
    lead = message("journal_already_on" if was else "journal_on")
    return f"{lead} {message('journal_on_how')}"


def _journal_off(was: bool, kept: int) -> str:
    lead = message("journal_already_off" if not was else "journal_off")
    if not kept:
        return lead
    return f"{lead} {message('journal_kept_one' if kept == 1 else 'journal_kept', count=kept)}"


def _empty_journal(state: State) -> str:
    if not state.journal:
        return message("journal_empty_off")
    return message("journal_empty")


def _read_entry(entry: Entry, now: datetime) -> str:
    when = entry.when.astimezone(now.tzinfo)
    words = entry.answer.split()
    answer = " ".join(words[:MAX_READ_WORDS])
    if len(words) > MAX_READ_WORDS:
        answer += " " + message("journal_more")
    return message("journal_read", day=_spoken_day(when.date(), now.date()),
                   prompt=entry.prompt.rstrip(), answer=answer)


def _spoken_day(day: date, today: date) -> str:
    """Today, Yesterday, or "On Saturday 9 May" (with the year when it is not this year)."""
    if day == today:
        return message("today")
    if (today - day).days == 1:
        return message("yesterday")
    year = "" if day.year == today.year else f" {day.year}"
    return message("on_day", weekday=f"{day:%A}", day=day.day, month=f"{day:%B}", year=year)


__all__ = ["AssistantServices", "make_services"]
