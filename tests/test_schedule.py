"""The reflection schedule with a controllable clock: the right minute, across midnight and
daylight-saving changes, days of the week, the missed-once rule, and the persisted state."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from assistant.base.config import config_dir
from assistant.base.errors import ConfigError
from assistant.base.lang.en import spoken_time
from assistant.base.schedule import Schedule, upcoming
from assistant.memory.reminder import Reminder
from assistant.memory.state import State, StateStore

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
UTC = timezone.utc


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current = (self.current.astimezone(UTC) + delta).astimezone(self.current.tzinfo)


def at(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0,
       second: int = 0, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=zone, fold=fold)


def minutes(start: datetime, end: datetime) -> Iterator[datetime]:
    """Every minute from ``start`` to ``end`` in real (UTC) time, in ``start``'s zone."""
    current = start.astimezone(UTC)
    while current < end.astimezone(UTC):
        yield current.astimezone(start.tzinfo)
        current += timedelta(minutes=1)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")


# ----------------------------------------------------------------------------- next_time

@pytest.mark.parametrize(("zone", "time", "days", "after", "expected"), [
    # later today / tomorrow / exactly at the time (strictly after)
    (LONDON, "21:00", "daily", (2026, 5, 11, 20, 0), "2026-05-11T21:00+01:00"),
    (LONDON, "21:00", "daily", (2026, 5, 11, 21, 0), "2026-05-12T21:00+01:00"),
    (LONDON, "21:00", "daily", (2026, 5, 11, 20, 59, 59), "2026-05-11T21:00+01:00"),
    # across midnight
    (LONDON, "00:15", "daily", (2026, 5, 11, 23, 30), "2026-05-12T00:15+01:00"),
    (LONDON, "23:45", "daily", (2026, 12, 31, 23, 50), "2027-01-01T23:45+00:00"),
    # weekdays: Friday evening -> Monday; weekends: Monday -> Saturday; one day name
    (LONDON, "07:00", "weekdays", (2026, 5, 15, 8, 0), "2026-05-18T07:00+01:00"),
    (LONDON, "07:00", "weekdays", (2026, 5, 17, 23, 0), "2026-05-18T07:00+01:00"),
    (LONDON, "09:30", "weekends", (2026, 5, 11, 9, 0), "2026-05-16T09:30+01:00"),
    (LONDON, "09:30", "weekends", (2026, 5, 16, 10, 0), "2026-05-17T09:30+01:00"),
    (LONDON, "18:00", "wednesday", (2026, 5, 13, 18, 1), "2026-05-20T18:00+01:00"),
    # spring forward: London skips 01:00-02:00 on 29 March 2026, New York 02:00-03:00 on 8 March
    (LONDON, "01:30", "daily", (2026, 3, 28, 12, 0), "2026-03-29T02:00+01:00"),
    (LONDON, "01:30", "daily", (2026, 3, 29, 2, 0), "2026-03-30T01:30+01:00"),
    (NEW_YORK, "02:30", "daily", (2026, 3, 7, 12, 0), "2026-03-08T03:00-04:00"),
    (NEW_YORK, "02:00", "sunday", (2026, 3, 1, 12, 0), "2026-03-08T03:00-04:00"),
    # a time on the other side of the change keeps its wall-clock time, not its UTC time
    (LONDON, "21:00", "daily", (2026, 3, 28, 21, 30), "2026-03-29T21:00+01:00"),
    (NEW_YORK, "21:00", "daily", (2026, 10, 31, 22, 0), "2026-11-01T21:00-05:00"),
    # fall back: the first 01:30 of the night
    (LONDON, "01:30", "daily", (2026, 10, 24, 12, 0), "2026-10-25T01:30+01:00"),
    (NEW_YORK, "01:30", "daily", (2026, 10, 31, 12, 0), "2026-11-01T01:30-04:00"),
])
def test_next_time(zone: ZoneInfo, time: str, days: str, after: tuple[int, ...],
                   expected: str) -> None:
    assert iso(Schedule(time, days).next_time(at(zone, *after))) == expected


def test_ambiguous_time_fires_once_in_the_autumn() -> None:
    schedule = Schedule("01:30")
    night = upcoming(schedule, at(LONDON, 2026, 10, 24, 12, 0), 2)
    assert [iso(m) for m in night] == ["2026-10-25T01:30+01:00", "2026-10-26T01:30+00:00"]
    # after the first 01:30 the clock goes back: the second 01:30 is not another occurrence
    second_pass = at(LONDON, 2026, 10, 25, 1, 10, fold=1)
    assert iso(schedule.next_time(second_pass)) == "2026-10-26T01:30+00:00"
    assert iso(schedule.previous_time(second_pass) or second_pass) == "2026-10-25T01:30+01:00"


def test_the_zone_of_after_is_the_wall_clock() -> None:
    schedule = Schedule("21:00")
    after = at(LONDON, 2026, 5, 11, 20, 0)
    assert iso(schedule.next_time(after)) == "2026-05-11T21:00+01:00"
    assert iso(schedule.next_time(after.astimezone(UTC))) == "2026-05-11T21:00+00:00"


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="no timezone"):
        Schedule("21:00").next_time(datetime(2026, 5, 11, 20, 0))


@pytest.mark.parametrize(("time", "days", "message"), [
    ("25:00", "daily", "not a time of day"),
    ("9", "daily", "not a time like"),
    ("21:00", "fortnightly", "is not one of"),
])
def test_bad_schedule(time: str, days: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Schedule(time, days)


@pytest.mark.parametrize(("time", "days", "spoken"), [
    ("21:00", "daily", "every evening at 9 pm"),
    ("08:30", "daily", "every morning at 8:30 am"),
    ("14:15", "daily", "every afternoon at 2:15 pm"),
    ("23:00", "daily", "every night at 11 pm"),
    ("12:00", "daily", "every day at noon"),
    ("00:00", "daily", "every night at midnight"),
    ("07:00", "weekdays", "every weekday at 7 am"),
    ("09:00", "weekends", "every Saturday and Sunday at 9 am"),
    ("19:45", "monday", "every Monday at 7:45 pm"),
])
def test_describe(time: str, days: str, spoken: str) -> None:
    assert Schedule(time, days).describe() == spoken


def test_spoken_time_of_a_moment() -> None:
    assert spoken_time(at(LONDON, 2026, 5, 11, 12, 5).time()) == "12:05 pm"


# ------------------------------------------------------------------------------ reminder

def reminder_at(time: str, days: str, set_at: datetime) -> Reminder:
    store = StateStore()
    store.save(State(schedule=Schedule(time, days), schedule_set=set_at))
    return Reminder(store)


def fired(reminder: Reminder, start: datetime, end: datetime) -> list[str]:
    """Poll ``due`` every minute like the voice loop does; the minutes it fired."""
    return [iso(moment) for moment in minutes(start, end) if reminder.due(moment)]


def test_fires_at_the_right_minute_once() -> None:
    reminder = reminder_at("21:00", "daily", at(LONDON, 2026, 5, 11, 20, 0))
    assert not reminder.due(at(LONDON, 2026, 5, 11, 20, 59, 59))
    assert reminder.due(at(LONDON, 2026, 5, 11, 21, 0, 0))
    assert not reminder.due(at(LONDON, 2026, 5, 11, 21, 0, 30))
    assert not reminder.due(at(LONDON, 2026, 5, 11, 23, 59))
    assert reminder.due(at(LONDON, 2026, 5, 12, 21, 0, 5))


def test_remembered_across_restarts() -> None:
    reminder = reminder_at("21:00", "daily", at(LONDON, 2026, 5, 11, 20, 0))
    assert reminder.due(at(LONDON, 2026, 5, 11, 21, 0))
    again = Reminder(StateStore())
    assert not again.due(at(LONDON, 2026, 5, 11, 21, 1))
    assert again.missed_on_start(at(LONDON, 2026, 5, 11, 21, 2)) is None


def test_across_midnight_polled_every_minute() -> None:
    reminder = reminder_at("00:10", "daily", at(LONDON, 2026, 5, 11, 12, 0))
    got = fired(reminder, at(LONDON, 2026, 5, 11, 23, 0), at(LONDON, 2026, 5, 13, 1, 0))
    assert got == ["2026-05-12T00:10+01:00", "2026-05-13T00:10+01:00"]


@pytest.mark.parametrize(("zone", "time", "start", "expected"), [
    (LONDON, "01:30", (2026, 3, 28, 12, 0), ["2026-03-29T02:00+01:00", "2026-03-30T01:30+01:00"]),
    (LONDON, "01:30", (2026, 10, 24, 12, 0), ["2026-10-25T01:30+01:00", "2026-10-26T01:30+00:00"]),
    (NEW_YORK, "02:30", (2026, 3, 7, 12, 0), ["2026-03-08T03:00-04:00", "2026-03-09T02:30-04:00"]),
    (NEW_YORK, "01:45", (2026, 10, 31, 12, 0),
     ["2026-11-01T01:45-04:00", "2026-11-02T01:45-05:00"]),
    (LONDON, "21:00", (2026, 3, 28, 12, 0), ["2026-03-28T21:00+00:00", "2026-03-29T21:00+01:00"]),
])
def test_dst_nights_polled_every_minute(zone: ZoneInfo, time: str, start: tuple[int, ...],
                                        expected: list[str]) -> None:
    begin = at(zone, *start)
    reminder = reminder_at(time, "daily", begin)
    assert fired(reminder, begin, begin + timedelta(hours=48)) == expected


def test_weekdays_over_a_week() -> None:
    begin = at(LONDON, 2026, 5, 9, 12, 0)  # a Saturday
    reminder = reminder_at("07:00", "weekdays", begin)
    got = fired(reminder, begin, begin + timedelta(days=7))
    assert [g[:10] for g in got] == [f"2026-05-{d}" for d in (11, 12, 13, 14, 15)]


def test_a_time_earlier_today_than_the_setting_waits_for_tomorrow() -> None:
    reminder = reminder_at("21:00", "daily", at(LONDON, 2026, 5, 11, 21, 30))
    assert reminder.missed_on_start(at(LONDON, 2026, 5, 11, 21, 31)) is None
    assert not reminder.due(at(LONDON, 2026, 5, 11, 22, 0))
    assert reminder.due(at(LONDON, 2026, 5, 12, 21, 0))


def test_missed_prompt_is_offered_once_at_start() -> None:
    reminder = reminder_at("21:00", "daily", at(LONDON, 2026, 5, 11, 18, 0))
    start = at(LONDON, 2026, 5, 12, 7, 30)  # the machine slept through 21:00
    missed = reminder.missed_on_start(start)
    assert missed is not None and iso(missed) == "2026-05-11T21:00+01:00"
    assert reminder.missed_on_start(start + timedelta(minutes=1)) is None
    assert not reminder.due(start + timedelta(minutes=2))
    assert "was due at 9 pm" in Reminder.intro(missed, start)


def test_several_missed_prompts_give_only_the_most_recent() -> None:
    reminder = reminder_at("21:00", "daily", at(LONDON, 2026, 5, 11, 18, 0))
    start = at(LONDON, 2026, 5, 15, 8, 0)  # asleep for four evenings
    missed = reminder.missed_on_start(start)
    assert missed is not None and iso(missed) == "2026-05-14T21:00+01:00"
    assert fired(reminder, start, start + timedelta(hours=12)) == []


def test_a_prompt_missed_too_long_ago_is_dropped() -> None:
    reminder = reminder_at("21:00", "daily", at(LONDON, 2026, 5, 11, 18, 0))
    assert reminder.missed_on_start(at(LONDON, 2026, 5, 12, 9, 1)) is None  # 12 h 1 min
    assert reminder.due(at(LONDON, 2026, 5, 12, 21, 0))


def test_missed_window_counts_real_hours_across_dst() -> None:
    # 21:00 BST on 24 Oct to 08:30 GMT on 25 Oct is 12 h 30 min of real time
    reminder = reminder_at("21:00", "daily", at(LONDON, 2026, 10, 24, 12, 0))
    assert reminder.missed_on_start(at(LONDON, 2026, 10, 25, 8, 30)) is None
    reminder = reminder_at("21:00", "daily", at(LONDON, 2026, 10, 24, 12, 0))
    assert reminder.missed_on_start(at(LONDON, 2026, 10, 25, 7, 59)) is not None


def test_sleep_while_running_offers_one_late_prompt() -> None:
    clock = FakeClock(at(LONDON, 2026, 5, 11, 20, 0))
    reminder = reminder_at("21:00", "daily", clock.now())
    assert not reminder.due(clock.now())
    clock.advance(timedelta(hours=2, minutes=30))  # suspended from 20:00 to 22:30
    assert reminder.due(clock.now())
    assert "was due at 9 pm" in Reminder.intro(
        at(LONDON, 2026, 5, 11, 21, 0), clock.now())
    assert not reminder.due(clock.now() + timedelta(minutes=1))


def test_no_schedule_never_fires() -> None:
    reminder = Reminder(StateStore())
    assert not reminder.due(at(LONDON, 2026, 5, 11, 21, 0))
    assert reminder.missed_on_start(at(LONDON, 2026, 5, 11, 21, 0)) is None


def test_on_time_intro() -> None:
    slot = at(LONDON, 2026, 5, 11, 21, 0)
    assert Reminder.intro(slot, slot + timedelta(seconds=20)).startswith("It's time")


# --------------------------------------------------------------------------------- state

def test_state_round_trip_and_permissions() -> None:
    previous = os.umask(0o022)
    try:
        check_round_trip()
    finally:
        os.umask(previous)


def check_round_trip() -> None:
    store = StateStore()
    state = State(schedule=Schedule("08:30", "weekdays"),
                  schedule_set=at(LONDON, 2026, 5, 11, 20, 0),
                  last_offered=at(LONDON, 2026, 5, 12, 8, 30), journal=True)
    store.save(state)
    assert StateStore().load() == state
    path = config_dir() / "state.yaml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    store.update(schedule=Schedule("21:00"))
    assert "time: '21:00'" in path.read_text()  # quoted, or YAML would read 1260
    assert StateStore().load().schedule == Schedule("21:00")


def test_missing_state_file_is_the_default() -> None:
    assert StateStore().load() == State()


def test_state_reloads_after_another_process_writes() -> None:
    first, second = StateStore(), StateStore()
    assert not first.load().journal
    second.update(journal=True)
    assert first.load().journal


@pytest.mark.parametrize(("text", "problem"), [
    ("reflection: [unclosed", "line 2"),  # libyaml marks the end of the text
    ("- a list\n", "expected a mapping"),
    ("reflection:\n  time: 21:00\n", 'in quotes, like time: "21:00"'),
    ("reflection:\n  time: '26:00'\n", "not a time of day"),
    ("reflection:\n  time: '21:00'\n  days: fortnightly\n", "is not one of"),
    ("journal:\n  enabled: maybe\n", "true or false"),
    ("reflection:\n  time: '21:00'\n  set_at: '2026-05-11 20:00'\n", "UTC offset"),
    ("reflection: 3\n", "'reflection' must be a mapping"),
    ("\xff\xfe", None),
])
def test_corrupt_state_is_one_line_config_error(text: str, problem: str | None) -> None:
    path = config_dir() / "state.yaml"
    path.parent.mkdir(parents=True)
    if problem is None:
        path.write_bytes(text.encode("latin-1"))
    else:
        path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        StateStore().load()
    message = caught.value.format_message()
    assert "\n" not in message
    assert message.startswith(str(path))
    assert "fix the file or delete it" in message
    if problem:
        assert problem in message


def test_state_file_location(private_dirs: Path) -> None:
    assert StateStore().path == private_dirs / "config" / "state.yaml"
