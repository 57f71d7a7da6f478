"""The dialog manager with the real matcher and the shipped pack (no audio involved)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from assistant.app.runtime import load_pack
from assistant.base.config import MatcherSettings, Settings
from assistant.base.errors import IntentFileError
from assistant.dialog.manager import Action, Dialog
from assistant.pack.intents import IntentPack
from assistant.understanding.matcher import Matcher


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_pack(Settings()))


@pytest.fixture
def dialog(matcher: Matcher) -> Dialog:
    return Dialog(matcher, rng=random.Random(3))


def test_tell_me_more_walks_the_replies_then_offers_a_prompt(dialog: Dialog) -> None:
    pack = dialog.pack
    first = dialog.handle("how do I apologise properly")
    assert first.intent == "sincere_apology"
    assert first.reply == pack.intents["sincere_apology"].replies[0]
    replies = [dialog.handle("tell me more").reply
               for _ in pack.intents["sincere_apology"].replies[1:]]
    assert replies == list(pack.intents["sincere_apology"].replies[1:])
    offer = dialog.handle("go on")
    assert "Would you like a question to reflect on?" in offer.reply
    prompt = dialog.handle("yes please")
    assert prompt.intent == "reflection_prompt"
    assert Action.AWAIT_ANSWER in prompt.actions
    assert any(p in prompt.reply for p in pack.intents["sincere_apology"].prompts)
    answer = dialog.handle("I would tell her exactly what I did and that I regret it")
    assert answer.intent is None and answer.reply
    assert not dialog.awaiting_answer


def test_declining_the_offer(dialog: Dialog) -> None:
    dialog.handle("how long will it take for her to trust me again")
    for _ in range(5):
        turn = dialog.handle("tell me more")
        if "reflect on" in turn.reply:
            break
    assert dialog.handle("no thanks").intent == "no"
    assert not dialog.awaiting_answer


def test_repeat_says_the_last_reply_again(dialog: Dialog) -> None:
    first = dialog.handle("where do I even start")
    assert dialog.handle("say that again").reply == first.reply
    assert dialog.handle("pardon?").reply == first.reply


def test_nothing_to_repeat_or_continue_yet(dialog: Dialog) -> None:
    assert dialog.handle("say that again").reply == dialog.pack.intents["repeat"].replies[0]
    assert dialog.handle("tell me more").reply == dialog.pack.intents["tell_me_more"].replies[0]


def test_conversation_actions(dialog: Dialog) -> None:
    assert Action.STOP in dialog.handle("stop").actions
    assert Action.SLOWER in dialog.handle("please speak more slowly").actions
    assert Action.FASTER in dialog.handle("can you talk faster").actions
    assert Action.END in dialog.handle("goodbye").actions
    assert dialog.handle("help").intent == "help"


def test_stop_does_not_replace_what_repeat_says(dialog: Dialog) -> None:
    first = dialog.handle("is it possible to rebuild trust")
    dialog.handle("stop")
    assert dialog.handle("repeat that").reply == first.reply


def test_no_intent_says_what_it_can_help_with(dialog: Dialog) -> None:
    turn = dialog.handle("what's the weather like tomorrow")
    assert turn.intent is None
    assert turn.reply.startswith("Sorry, I can't help with that. I can talk about ")
    assert "Say help to hear more." in turn.reply


def test_safety_wins_even_during_a_reflection(dialog: Dialog) -> None:
    dialog.handle("give me a reflection prompt")
    assert dialog.awaiting_answer
    turn = dialog.handle("honestly I just want to die")
    assert turn.intent == "safety"
    assert Action.SAFETY in turn.actions
    assert "emergency" in turn.reply
    assert not dialog.awaiting_answer


def test_reflection_session_commands(dialog: Dialog) -> None:
    first = dialog.handle("ask me something to reflect on")
    again = dialog.handle("another one")
    assert again.intent == "reflection_prompt" and again.reply != first.reply
    skipped = dialog.handle("skip")
    assert skipped.intent == "skip_prompt"
    assert not dialog.awaiting_answer


def test_a_long_answer_mentioning_stop_is_an_answer(dialog: Dialog) -> None:
    dialog.handle("give me a reflective question")
    turn = dialog.handle("I think I need to stop hiding things and be more open with him")
    assert turn.intent is None
    assert not dialog.awaiting_answer


class _Journal:
    def __init__(self) -> None:
        self.saved: list[tuple[str, str]] = []

    def schedule(self, slots: dict[str, str]) -> str | None:
        return f"scheduled {slots}"

    def journal_set(self, enabled: bool) -> str | None:
        return f"journal {'on' if enabled else 'off'}"

    def journal_save(self, prompt: str, answer: str) -> bool | None:
        self.saved.append((prompt, answer))
        return True

    def journal_last(self) -> str | None:
        return "last entry"


def test_services_are_used(matcher: Matcher) -> None:
    services = _Journal()
    dialog = Dialog(matcher, services=services, rng=random.Random(1))
    assert dialog.handle("turn on my journal").reply == "journal on"
    prompt = dialog.handle("give me a reflection prompt")
    turn = dialog.handle("I want to be more patient with her")
    assert services.saved == [(dialog.state.prompt.text if dialog.state.prompt else
                               services.saved[0][0], "I want to be more patient with her")]
    assert services.saved[0][0] in prompt.reply
    assert "journal" in turn.reply
    assert dialog.handle("remind me every evening at nine").reply == (
        "scheduled {'days': 'daily', 'time': '21:00'}")
    assert dialog.handle("read me my last journal entry").reply == "last entry"


AMBIGUOUS = """
language: en
intents:
  - name: apples
    topic: apples
    examples: ["tell me about red fruit"]
    replies: ["Apples are red."]
    prompts: ["Do you like apples?"]
  - name: cherries
    topic: cherries
    examples: ["tell me about red fruits"]
    replies: ["Cherries are red too."]
    prompts: ["Do you like cherries?"]
"""


@pytest.mark.parametrize(("answer", "which"), [
    ("the second one", 1), ("the first", 0), ("cherries", "cherries"), ("apples please", "apples"),
])
def test_clarifying_question_and_its_answer(answer: str, which: int | str) -> None:
    matcher = Matcher(IntentPack.from_yaml(AMBIGUOUS), MatcherSettings(margin=0.05))
    dialog = Dialog(matcher, rng=random.Random(0))
    question = dialog.handle("tell me about red fruit please")
    assert Action.CLARIFY in question.actions
    offered = question.reply.removeprefix("Do you mean ").rstrip("?").split(", or ")
    assert sorted(offered) == ["apples", "cherries"]
    topic = offered[which] if isinstance(which, int) else which
    assert dialog.handle(answer).reply == dialog.pack.intents[topic].replies[0]


def test_turn_json_shape(dialog: Dialog) -> None:
    turn = dialog.handle("remind me to reflect every evening at nine")
    assert set(turn.to_json()) == {"text", "intent", "confidence", "slots", "reply"}
    assert turn.to_json()["slots"] == {"days": "daily", "time": "21:00"}


def test_schedule_tells_the_services_whether_a_part_of_day_was_said(matcher: Matcher) -> None:
    seen: list[dict[str, str]] = []

    class Recording(_Journal):
        def schedule(self, slots: dict[str, str]) -> str | None:
            seen.append(dict(slots))
            return "ok"

    dialog = Dialog(matcher, services=Recording())
    dialog.handle("move it to ten")
    dialog.handle("move it to ten at night")
    assert seen[0].get("part_of_day") == "unsaid" and "part_of_day" not in seen[1]


# ------------------------------------------------- behaviour comes from 'does:', not the name

RENAMED = """
language: en
intents:
  - name: say_that_again
    does: repeat
    examples: ["say that again", "repeat that"]
    replies: ["I have nothing to repeat yet."]
  - name: hush
    does: stop
    examples: ["hush", "be quiet"]
    replies: ["Okay."]
  - name: agree
    does: "yes"
    examples: ["yes", "yes please", "sure"]
    replies: ["Good."]
  - name: apology
    examples: ["how do i apologise"]
    replies: ["Start by naming what you did.", "Then listen."]
    prompts: ["What would you want to hear?"]
  - name: question_please
    does: reflection_prompt
    examples: ["give me a question"]
    replies: ["Here is one."]
"""


def test_renamed_intents_keep_their_behaviour(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text(RENAMED)
    pack = IntentPack.from_dirs([tmp_path], "en")
    dialog = Dialog(Matcher(pack), rng=random.Random(1))
    first = dialog.handle("how do i apologise")
    again = dialog.handle("say that again")
    assert again.intent == "say_that_again" and again.reply == first.reply
    stop = dialog.handle("hush")
    assert stop.intent == "hush" and Action.STOP in stop.actions
    dialog.handle("how do i apologise")
    dialog.handle("tell me more")  # no intent does tell_me_more here: the fallback
    prompt = dialog.handle("give me a question")
    assert prompt.intent == "question_please" and Action.AWAIT_ANSWER in prompt.actions


def test_an_unknown_behaviour_is_a_load_error_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text(
        "language: en\nintents:\n  - name: fly\n    does: fly\n"
        "    examples: [\"fly away\"]\n    replies: [\"Whee.\"]\n")
    with pytest.raises(IntentFileError) as caught:
        IntentPack.from_dirs([tmp_path], "en")
    message = caught.value.format_message()
    assert "pack.yaml:4" in message and "'does: fly'" in message
    assert "reflection_schedule" in message


def test_intents_check_names_behaviours_no_intent_does(tmp_path: Path) -> None:
    from assistant.app.lint import behaviours

    (tmp_path / "pack.yaml").write_text(RENAMED)
    notes = [f.message for f in behaviours(IntentPack.from_dirs([tmp_path], "en"))]
    assert any("no intent does" in n and "goodbye" in n and "repeat," not in n for n in notes)
