"""The daily reflection's reminder: when to offer it, remembering each offer in the state file.

It joins the schedule's time rules (:mod:`.schedule`) and the saved state (:mod:`.state`), so
neither of those needs the other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..base.lang.en import message, spoken_time
from ..base.schedule import LATE_AFTER, MISSED_WINDOW, to_utc
from .state import StateStore


class Reminder:
    """Decides when to offer the scheduled reflection, remembering offers in ``store``.

    Each scheduled time fires once: :meth:`due` turns true from that minute on (until
    :data:`MISSED_WINDOW` has passed) and records the offer, so the next call is false. Only
    scheduled times after the schedule was set count, and only the most recent one is ever
    considered, so a machine that slept through several prompts offers one, not several.
    """

    def __init__(self, store: StateStore, window: timedelta = MISSED_WINDOW) -> None:
        self.store = store
        self.window = window

    def due(self, now: datetime) -> bool:
        """True once per scheduled time, from that time on; records the offer."""
        return self._take(now) is not None

    def missed_on_start(self, now: datetime) -> datetime | None:
        """At start-up: the most recent scheduled time missed within :attr:`window`, or None.

        It is recorded as offered, so :meth:`due` does not offer it again.
        """
        return self._take(now)

    def pending(self, now: datetime) -> datetime | None:
        """The scheduled time that should be offered at ``now``, without recording it."""
        state = self.store.load()
        if state.schedule is None:
            return None
        slot = state.schedule.previous_time(now)
        if slot is None or to_utc(now) - to_utc(slot) > self.window:
            return None
        floors = [t for t in (state.schedule_set, state.last_offered) if t is not None]
        if any(to_utc(slot) <= to_utc(floor) for floor in floors):
            return None
        return slot

    def _take(self, now: datetime) -> datetime | None:
        slot = self.pending(now)
        if slot is not None:
            self.store.update(last_offered=slot)
        return slot

    @staticmethod
    def intro(slot: datetime, now: datetime) -> str:
        """What to say before the prompt: on time, or gently noting it was missed."""
        at = spoken_time(slot.time())
        if to_utc(now) - to_utc(slot) <= LATE_AFTER:
            return message("reflection_now")
        return message("reflection_late", at=at)
