"""The matcher on the shipped pack: its own examples, the paraphrase sets, safety, slots."""

from __future__ import annotations

import random
import string
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.app.lint import sample_expansions
from assistant.app.runtime import load_pack
from assistant.base.config import MatcherSettings, Settings
from assistant.base.normalize import normalize, normalize_tokens
from assistant.pack.intents import IntentPack
from assistant.pack.slots import ValueIndex
from assistant.understanding.matcher import Matcher

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_pack(Settings()))


@pytest.fixture(scope="module")
def sets() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DATA / "paraphrases.yaml").read_text())
    return data


def label(value: Any) -> Any:
    return {True: "yes", False: "no"}.get(value, value)


@pytest.mark.parametrize(("text", "normal"), [
    ("I'm SO sorry, I didn't mean it!", "i am so sorry i did not mean it"),
    ("How do I apologise?", "how do i apologize"),
    ("im sure its gonna be ok", "i am sure it is going to be okay"),
    ("Remind me at twenty five past nine PM", "remind me at 25 past 9 pm"),
    ("nine thirty", "9 30"),
    ("my partner's behaviour", "my partners behavior"),
    ("When's my reminder?", "when is my reminder"),
    ("um, uh, well", "well"),
    ("don't can't won't", "do not can not will not"),
])
def test_normalize(text: str, normal: str) -> None:
    assert normalize(text) == normal


def test_every_intent_matches_its_own_examples(matcher: Matcher) -> None:
    wrong = []
    for intent in matcher.pack.intents.values():
        for sentence in sample_expansions(intent):
            if "{" in sentence:
                continue
            got = matcher.match(sentence, context=intent.context)
            expected = None if intent.out_of_scope else intent.name
            if got.intent != expected:
                wrong.append((intent.name, sentence, got.intent))
    assert wrong == []


def test_paraphrase_accuracy(matcher: Matcher, sets: dict[str, Any]) -> None:
    pairs = [(t, label(e)) for t, e in sets["paraphrases"]]
    assert len(pairs) >= 120
    wrong = [(t, e, matcher.match(t).intent) for t, e in pairs if matcher.match(t).intent != e]
    accuracy = 1 - len(wrong) / len(pairs)
    assert accuracy >= 0.92, f"top-1 {accuracy:.3f}; wrong: {wrong}"


def test_every_intent_has_paraphrases(matcher: Matcher, sets: dict[str, Any]) -> None:
    covered = {label(e) for _, e in sets["paraphrases"]}
    wanted = {i.name for i in matcher.pack.intents.values()
              if i.context is None and not i.safety and not i.out_of_scope}
    assert wanted <= covered


def test_safety_recall_is_total(matcher: Matcher, sets: dict[str, Any]) -> None:
    assert len(sets["safety"]) >= 30
    missed = [t for t in sets["safety"] if matcher.match(t).intent != "safety"]
    assert missed == []


def test_trust_talk_does_not_raise_safety(matcher: Matcher, sets: dict[str, Any]) -> None:
    assert len(sets["not_safety"]) >= 30
    alarms = [t for t in sets["not_safety"] if matcher.match(t).intent == "safety"]
    assert len(alarms) / len(sets["not_safety"]) <= 0.03, alarms


def test_out_of_scope_gets_no_intent(matcher: Matcher, sets: dict[str, Any]) -> None:
    assert len(sets["out_of_scope"]) >= 20
    accepted = [(t, matcher.match(t).intent) for t in sets["out_of_scope"]
                if matcher.match(t).intent is not None]
    assert 1 - len(accepted) / len(sets["out_of_scope"]) >= 0.90, accepted


@pytest.mark.parametrize(("text", "intent"), [
    ("how do i apologise properly", "sincere_apology"),
    ("I'm the one who was hurt, what's my part?", "hurt_partner_role"),
    ("he cheated and now he says he'll kill me if i leave", "safety"),
    ("my girlfriend cheated on me and i want to kill myself", "safety"),
    ("tell me more", "tell_me_more"),
    ("say that again", "repeat"),
    ("what's the weather like tomorrow", None),
    ("asdf qwer zxcv", None),
    ("¿cómo puedo reconstruir la confianza?", None),
    ("wie kann ich vertrauen wieder aufbauen", None),
])
def test_table(matcher: Matcher, text: str, intent: str | None) -> None:
    assert matcher.match(text).intent == intent


@pytest.mark.parametrize("text", [
    "i hurt her feelings when i lied", "it kills me that i did this",
    "i'm scared she'll never trust me again", "that comment really hit a nerve",
])
def test_trust_talk_table(matcher: Matcher, text: str) -> None:
    assert matcher.match(text).intent != "safety"


def test_confidence_is_meaningful(matcher: Matcher) -> None:
    exact = matcher.match("how do i apologize properly")
    paraphrase = matcher.match("any tips on saying sorry the right way to my wife")
    nonsense = matcher.match("purple elephants dancing on the moon")
    assert nonsense.intent is None and 1 - matcher.settings.threshold < nonsense.confidence <= 1
    assert matcher.settings.threshold <= paraphrase.confidence < exact.confidence <= 1.0
    assert all(0 <= c <= 1 for _, c in exact.alternatives)


def test_empty_and_long_input(matcher: Matcher) -> None:
    assert matcher.match("").intent is None
    assert matcher.match("   ...  ").intent is None
    long = matcher.match(" ".join(["trust"] * 2000))
    assert 0 <= long.confidence <= 1
    assert long.text.startswith("trust trust")


def test_ambiguity_is_reported() -> None:
    pack = IntentPack.from_yaml("""
language: en
intents:
  - name: apples
    examples: ["tell me about red fruit"]
    replies: ["Apples."]
    prompts: ["Do you like apples?"]
  - name: cherries
    examples: ["tell me about red fruits"]
    replies: ["Cherries."]
    prompts: ["Do you like cherries?"]
""")
    match = Matcher(pack, MatcherSettings(margin=0.05)).match("tell me about red fruit please")
    assert match.ambiguous
    assert {name for name, _ in match.alternatives[:2]} == {"apples", "cherries"}


def test_context_intents_only_match_in_their_context(matcher: Matcher) -> None:
    assert matcher.match("i am done").intent != "answer_done"
    assert matcher.match("i am done", context="reflection").intent == "answer_done"


def test_slot_pack_accuracy() -> None:
    pack = IntentPack.from_dirs([DATA / "coffee"], "en")
    matcher = Matcher(pack)
    rows = yaml.safe_load((DATA / "coffee_paraphrases.yaml").read_text())
    assert len(rows) >= 60
    wrong = []
    for row in rows:
        got = matcher.match(row["text"])
        expected = {k: str(v) for k, v in (row.get("slots") or {}).items()}
        if got.intent != row["intent"] or got.slots != expected:
            wrong.append((row["text"], row["intent"], expected, got.intent, got.slots))
    assert 1 - len(wrong) / len(rows) >= 0.95, wrong


@pytest.mark.parametrize(("text", "slots"), [
    ("remind me to reflect every evening at nine", {"time": "21:00", "days": "daily"}),
    ("weekdays at seven", {"time": "07:00", "days": "weekdays"}),
    ("remind me at half past eight in the morning", {"time": "08:30"}),
    ("move it to ten", {"action": "move", "time": "10:00"}),
    ("cancel the reminders", {"action": "cancel"}),
    ("when is my reflection", {"action": "query"}),
    ("remind me every night at quarter to ten", {"time": "21:45", "days": "daily"}),
    ("set my reflection for 21:30 on weekends", {"time": "21:30", "days": "weekends"}),
])
def test_schedule_slots(matcher: Matcher, text: str, slots: dict[str, str]) -> None:
    match = matcher.match(text)
    assert (match.intent, match.slots) == ("reflection_schedule", slots)


def test_schedule_phrase_set(matcher: Matcher) -> None:
    rows = yaml.safe_load((DATA / "schedule_phrases.yaml").read_text())
    assert len(rows) >= 40
    wrong = []
    for text, slots in rows:
        expected = {k: str(v) for k, v in (slots or {}).items()}
        got = matcher.match(text)
        if got.intent != "reflection_schedule" or got.slots != expected:
            wrong.append((text, expected, got.intent, got.slots))
    assert wrong == []


def test_misheard_filler_words_keep_slot_values() -> None:
    pack = IntentPack.from_dirs([DATA / "coffee"], "en")
    match = Matcher(pack).match("can eye get a large latte whit oat milk please")
    assert match.intent == "order_drink"
    assert match.slots == {"size": "large", "drink": "latte", "milk": "oat"}


def _typos(text: str, rng: random.Random) -> str:
    """``text`` with one to three letters changed, dropped or added."""
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(max(len(chars), 1))
        edit = rng.random()
        if edit < 0.4:
            chars[i] = rng.choice(string.ascii_lowercase + " ")
        elif edit < 0.7:
            del chars[i]
        else:
            chars.insert(i, rng.choice(string.ascii_lowercase))
    return "".join(chars)


def test_fuzzy_values_found_as_if_every_form_were_compared(
    matcher: Matcher, sets: dict[str, Any]
) -> None:
    """A window is compared only with the list values that have a word like one of the
    utterance's (slots.NEAR_WORD); that must find what comparing every value finds, but for
    the rare word run together with the next ("saythat again" for "says that")."""
    rng = random.Random(5)
    texts = [t for t, _ in sets["paraphrases"]] + sets["safety"] + sets["not_safety"]
    texts += [_typos(t, rng) for t in texts for _ in range(2)]

    def found(index: ValueIndex) -> list[list[tuple[int, int, str, str, float]]]:
        index.forget()
        return [sorted((s.start, s.end, s.list_name, s.value, round(s.score, 2))
                       for s in index.spans(normalize_tokens(t))) for t in texts]

    filtered = found(matcher.values)
    assert sum(s[-1] < 100 for spans in filtered for s in spans) > 200  # misheard values
    phrases = {name: values.phrases() for name, values in matcher.pack.lists.items()}
    every = found(ValueIndex(phrases, near_word=0))  # every value is near every word
    matcher.values.forget()
    differ = [text for text, a, b in zip(texts, filtered, every, strict=True) if a != b]
    assert len(differ) <= len(texts) // 200, differ
