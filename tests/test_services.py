"""The dialog's services: spoken replies for the schedule and the journal, the state they
keep, and the same through the real dialog and the ``reflect --answer`` command."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from assistant.base.config import Settings, config_dir
from assistant.base.schedule import Schedule
from assistant.memory.journal import Journal
from assistant.memory.services import AssistantServices
from assistant.memory.state import State, StateStore

ROOT = Path(__file__).resolve().parent.parent
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 5, 11, 18, 0, tzinfo=LONDON)


class FakeClock:
    def __init__(self, now: datetime = NOW) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


@pytest.fixture
def services() -> AssistantServices:
    return AssistantServices(StateStore(), Journal(), FakeClock())


def saved() -> State:
    return StateStore().load()


# ------------------------------------------------------------------------------- schedule

@pytest.mark.parametrize(("before", "slots", "reply", "after"), [
    (None, {"time": "21:00", "days": "daily"},
     "All right. I'll offer you a reflection every evening at 9 pm.", ("21:00", "daily")),
    (None, {"time": "08:30"},
     "All right. I'll offer you a reflection every morning at 8:30 am.", ("08:30", "daily")),
    (None, {"time": "07:00", "days": "weekdays"},
     "All right. I'll offer you a reflection every weekday at 7 am.", ("07:00", "weekdays")),
    (("21:00", "weekdays"), {"time": "06:45"},
     "All right. I'll offer you a reflection every morning at 6:45 am.", ("06:45", "daily")),
    (("21:00", "daily"), {"days": "weekends"},
     "All right. I'll offer you a reflection every Saturday and Sunday at 9 pm.",
     ("21:00", "weekends")),
    (None, {}, "What time would you like your reflection? You could say, for example: "
     "every evening at nine.", None),
    (None, {"days": "monday"}, "What time would you like your reflection?", None),
    (None, {"time": "25:00"}, "Sorry, I didn't catch a time I can use.", None),
    # move keeps the days
    (("07:00", "weekdays"), {"action": "move", "time": "07:30"},
     "All right. I've moved your reflection to every weekday at 7:30 am.",
     ("07:30", "weekdays")),
    (("21:00", "daily"), {"action": "move", "time": "22:00"},
     "All right. I've moved your reflection to every night at 10 pm.", ("22:00", "daily")),
    (("21:00", "daily"), {"action": "move", "days": "sunday"},
     "All right. I've moved your reflection to every Sunday at 9 pm.", ("21:00", "sunday")),
    (None, {"action": "move", "time": "10:00"},
     "You had no reflection reminder, so I've set one: every morning at 10 am.",
     ("10:00", "daily")),
    (("21:00", "daily"), {"action": "move"}, "What time should I move your reflection to?",
     ("21:00", "daily")),
    (None, {"action": "move", "days": "weekdays"}, "You have no reflection reminder yet.", None),
    # cancel and query
    (("21:00", "daily"), {"action": "cancel"},
     "All right. I've cancelled your reflection reminder. You can set a new one any time.",
     None),
    (None, {"action": "cancel"}, "You have no reflection reminder to cancel.", None),
    (("07:00", "weekdays"), {"action": "query"},
     "Your reflection is set for every weekday at 7 am.", ("07:00", "weekdays")),
    (("12:00", "daily"), {"action": "query"}, "Your reflection is set for every day at noon.",
     ("12:00", "daily")),
    (None, {"action": "query"}, "You have no reflection reminder yet. You could say: remind me "
     "to reflect every evening at nine.", None),
])
def test_schedule_replies(services: AssistantServices, before: tuple[str, str] | None,
                          slots: dict[str, str], reply: str,
                          after: tuple[str, str] | None) -> None:
    if before is not None:
        StateStore().save(State(schedule=Schedule(*before)))
    assert (services.schedule(slots) or "").startswith(reply)
    expected = Schedule(*after) if after else None
    assert saved().schedule == expected


def test_setting_records_when_so_earlier_times_do_not_fire(services: AssistantServices) -> None:
    services.schedule({"time": "17:00"})
    assert saved().schedule_set == NOW
    assert not services.reminder.due(NOW + timedelta(minutes=1))
    assert services.reminder.due(NOW + timedelta(days=1) - timedelta(hours=1))


def test_a_damaged_state_file_gets_an_apology_not_a_crash(services: AssistantServices) -> None:
    path = config_dir() / "state.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("reflection: [unclosed\n")
    assert services.schedule({"time": "21:00"}).startswith("Sorry")  # type: ignore[union-attr]
    assert (services.journal_set(True) or "").startswith("Sorry")
    assert services.journal_save("q", "a") is False
    assert path.read_text() == "reflection: [unclosed\n"


# -------------------------------------------------------------------------------- journal

def test_journal_on_and_off_say_where_and_how_to_delete(services: AssistantServices) -> None:
    on = services.journal_set(True) or ""
    assert on.startswith("Your journal is on.")
    assert "on this device" in on and "delete" in on
    assert saved().journal
    assert (services.journal_set(True) or "").startswith("Your journal is already on.")
    services.journal_save("q", "a")
    off = services.journal_set(False) or ""
    assert off.startswith("Your journal is off. I won't keep your answers")
    assert "The 1 entry you saved stay" in off and "journal delete command" in off
    assert not saved().journal
    assert (services.journal_set(False) or "").startswith("Your journal is already off.")


def test_journal_save_only_when_on(services: AssistantServices) -> None:
    assert services.journal_save("What did you notice?", "Nothing yet.") is None
    assert not Journal().exists()
    services.journal_set(True)
    assert services.journal_save("What did you notice?", "That I rushed.") is True
    entry = Journal().last()
    assert entry is not None and entry.answer == "That I rushed."
    assert entry.created == "2026-05-11T18:00:00+01:00"


def test_journal_last(services: AssistantServices) -> None:
    assert "Your journal is off" in (services.journal_last() or "")
    services.journal_set(True)
    assert "empty so far" in (services.journal_last() or "")
    journal = Journal()
    journal.add("What made you hopeful?", "Her laugh at dinner.",
                when=NOW - timedelta(days=1))
    assert services.journal_last() == ("Yesterday, I asked: What made you hopeful? "
                                       "You said: Her laugh at dinner.")
    journal.add("Why?", " ".join(["word"] * 80), when=datetime(2026, 4, 2, 21, tzinfo=LONDON))
    reply = services.journal_last() or ""
    assert reply.startswith("On Thursday 2 April, I asked: Why? You said: word word")
    assert reply.endswith("... and a little more.") and reply.count("word") == 60
    journal.add("Today?", "Yes.", when=NOW)
    assert (services.journal_last() or "").startswith("Today, I asked")


# --------------------------------------------------------------------- through the dialog

def test_spoken_requests_through_the_real_dialog(services: AssistantServices) -> None:
    from assistant.app.runtime import make_dialog

    dialog = make_dialog(Settings(), services=services)
    said = {text: dialog.handle(text).reply for text in (
        "remind me to reflect every evening at nine", "when is my reflection",
        "turn on my journal")}
    assert said["remind me to reflect every evening at nine"] == (
        "All right. I'll offer you a reflection every evening at 9 pm.")
    assert said["when is my reflection"] == "Your reflection is set for every evening at 9 pm."
    assert said["turn on my journal"].startswith("Your journal is on.")
    prompt = dialog.start_reflection()
    assert dialog.awaiting_answer
    thanks = dialog.handle("I noticed I get defensive when I am tired")
    assert "kept your answer in your journal" in thanks.reply
    entry = Journal().last()
    assert entry is not None and entry.prompt in prompt.reply
    assert dialog.handle("read me my last entry").reply.startswith("Today, I asked:")
    assert dialog.handle("cancel the reminders").reply.startswith("All right. I've cancelled")
    assert saved().schedule is None


# ------------------------------------------------------------------------ reflect --answer

def reflect_json(*extra: str) -> list[dict[str, object]]:
    snippet = (
        "import sys\n"
        "from assistant.cli import build_parser, settings_from_args\n"
        "from assistant.cli.reflect import reflect\n"
        "args = build_parser().parse_args(sys.argv[1:])\n"
        "sys.exit(reflect(args, settings_from_args(args)))\n")
    result = subprocess.run([sys.executable, "-c", snippet, "reflect", *extra],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_reflect_answer_json_keeps_the_answer_when_on() -> None:
    StateStore().save(State(journal=True))
    first, second = reflect_json("--answer", "I was patient on the phone", "--json")
    assert first["intent"] == "reflection_prompt" and first["text"] == ""
    assert second["text"] == "I was patient on the phone"
    assert "kept your answer in your journal" in str(second["reply"])
    entry = Journal().last()
    assert entry is not None and entry.prompt in str(first["reply"])
    used = json.loads((Path(Journal().path.parent) / "prompts_used.json").read_text())
    assert entry.prompt in used


def test_reflect_skip_keeps_nothing() -> None:
    StateStore().save(State(journal=True))
    _, second = reflect_json("--answer", "skip", "--json")
    assert second["intent"] == "skip_prompt"
    assert not Journal().exists()


def test_reflect_command_line_json() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "reflect", "--answer", "I listened", "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    turns = [json.loads(line) for line in result.stdout.splitlines()]
    assert [t["intent"] for t in turns] == ["reflection_prompt", None]
    assert turns[1]["text"] == "I listened"


@pytest.mark.parametrize(("before", "said", "after"), [
    ("21:00", "10:00", "22:00"),  # "move it to ten" in the evening stays in the evening
    ("21:00", "08:30", "20:30"),
    ("07:00", "09:00", "09:00"),  # and in the morning, in the morning
    ("23:30", "01:00", "01:00"),  # an hour and a half later, across midnight
])
def test_a_bare_hour_moves_to_the_nearer_reading(
    services: AssistantServices, before: str, said: str, after: str
) -> None:
    services.schedule({"time": before})
    services.schedule({"action": "move", "time": said, "part_of_day": "unsaid"})
    schedule = StateStore().load().schedule
    assert schedule is not None and schedule.time == after


def test_a_said_part_of_day_is_kept(services: AssistantServices) -> None:
    services.schedule({"time": "21:00"})
    services.schedule({"action": "move", "time": "07:00"})  # "seven in the morning"
    schedule = StateStore().load().schedule
    assert schedule is not None and schedule.time == "07:00"
