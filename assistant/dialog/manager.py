"""The dialog manager: what to say next, given what was said and what came before.

Pure logic, independent of audio: the typed conversation, ``ask`` and the voice loop all call
:meth:`Dialog.handle` with the text of one turn and get a :class:`Turn` back. Side effects the
dialog cannot do itself (speech rate, ending the session, the journal and the reminder
schedule) are returned as actions or go through the small :class:`Services` protocol.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from ..base.lang.en import message, negations
from ..base.normalize import normalize_tokens
from ..base.safety import Contacts, contacts
from ..pack.intents import Intent, IntentPack, render_reply
from ..pack.prompts import Prompt, PromptDeck
from ..pack.slots import says_part_of_day
from ..pack.terms import stem
from ..understanding.danger import DangerProbe
from ..understanding.matcher import Match, Matcher

CONVERSATION = frozenset({
    "help", "repeat", "tell_me_more", "stop", "goodbye", "thanks", "slower", "faster",
    "greeting", "yes", "no", "privacy",
})
"""What intents about the conversation itself rather than a topic do (their ``does:``)."""

REFLECTION = "reflection"
"""Dialog context while the person answers a reflective prompt."""
CHECK_IN_BELOW = 0.5
"""Speech recognised less surely than this (0..1) that has a danger word in it gets the
safety check-in ("Are you safe right now?") instead of a guessed topic."""
CHECK_IN_ANSWER = 0.6
"""How surely (0..1) an answer to the safety check-in must match "I'm safe", or an ordinary
request, to be taken as that; a less certain answer gets the safety reply."""
READING_MARGIN = 0.1
"""Another reading of speech (a second recogniser's) is acted on instead of the first only when
it matches an intent this much more surely (0..1), or the first matches none."""
SESSION_COMMAND_WORDS = 6
SESSION_COMMAND_MIN = 0.8
"""While answering, an utterance of at most this many words that matches a reflection-context
intent ("I'm done", "another one", "skip") this well is that command, not part of the answer."""

log = logging.getLogger(__name__)


class Action:
    END = "end"
    """The person said goodbye: end the session."""
    STOP = "stop"
    """Stop speaking now."""
    SLOWER = "slower"
    FASTER = "faster"
    AWAIT_ANSWER = "await_answer"
    """A reflective prompt was asked: the next speech is a free-form answer."""
    CLARIFY = "clarify"
    """A clarifying question was asked."""
    SAFETY = "safety"
    CHECK_IN = "check_in"
    """The assistant asked whether the person is safe: the next answer is heard for that."""


@dataclass(frozen=True)
class Turn:
    """One exchange: what was heard or typed, what it meant, and the reply."""

    text: str
    intent: str | None
    confidence: float
    slots: dict[str, str]
    reply: str
    actions: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    """Extra fields for ``--json`` (the safety reply's numbers, under ``safety``)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text, "intent": self.intent, "confidence": self.confidence,
            "slots": self.slots, "reply": self.reply, **self.details,
        }

    def heard_as(self, text: str) -> Turn:
        """The same turn, reporting ``text`` as what was heard (with the wake phrase)."""
        return dataclasses.replace(self, text=text)


class Services(Protocol):
    """What the dialog asks of the rest of the assistant (reminders and the journal)."""

    def schedule(self, slots: dict[str, str]) -> str | None:
        """Set, move, cancel or report the reflection reminder; the reply, or None."""

    def journal_set(self, enabled: bool) -> str | None:
        """Turn the journal on or off; the reply, or None."""

    def journal_save(self, prompt: str, answer: str) -> bool | None:
        """Keep an answer when the journal is on: True if it was kept, False if it could not
        be (a full disk, a damaged journal), None when the journal is off."""

    def journal_last(self) -> str | None:
        """A spoken summary of the last journal entry, or None."""


class NoServices:
    """Services for a dialog without reminders or journal (replies come from the pack)."""

    def schedule(self, slots: dict[str, str]) -> str | None:
        return None

    def journal_set(self, enabled: bool) -> str | None:
        return None

    def journal_save(self, prompt: str, answer: str) -> bool | None:
        return None

    def journal_last(self) -> str | None:
        return None


@dataclass
class _State:
    topic: Intent | None = None
    reply_index: int = 0
    last_reply: str | None = None
    recent_topics: list[str] = field(default_factory=list)
    clarify: tuple[str, str] | None = None
    offer_prompt_for: str | None = None
    prompt: Prompt | None = None
    check_in: bool = False
    """The assistant asked whether the person is safe."""


class Dialog:
    """One conversation with one person; keep it for the whole session."""

    def __init__(
        self,
        matcher: Matcher,
        services: Services | None = None,
        deck: PromptDeck | None = None,
        rng: random.Random | None = None,
        safety_contacts: Contacts | None = None,
        danger: DangerProbe | None = None,
    ) -> None:
        self.matcher = matcher
        self.danger = danger
        """The meaning-based judge of danger beside the pack's safety patterns, if installed."""
        self.pack: IntentPack = matcher.pack
        self.services: Services = services or NoServices()
        self.rng = rng or random.Random()
        self.deck = deck or PromptDeck(self.pack, rng=self.rng)
        self.contacts = safety_contacts or contacts()
        self.state = _State()
        self.check_in = next((i for i in self.pack.intents.values() if i.question), None)
        """The safety check-in: its question, and its answers that mean "I am safe"."""
        self.danger_stems = frozenset(
            stem(word) for intent in self.pack.safety_intents for word in intent.danger_words)

    # ---------------------------------------------------------------------------- entry points

    def handle(
        self, text: str, confidence: float = 1.0, readings: Sequence[str] = ()
    ) -> Turn:
        """React to one utterance, typed or recognised from speech. For speech, give the
        recogniser's ``confidence`` and any other ``readings`` of the same audio (a second
        pass): a danger word heard unsurely gets the safety check-in, not a guessed topic.

        Safety comes first, in every state: a safety statement always gets the safety reply
        and ends whatever the dialog was waiting for (an answer, a choice, a yes or no)."""
        text = " ".join(text.split())
        match = self.matcher.match(text)
        if self.is_safety(match):
            return self._pattern_safety(match, text, confidence)
        sensed = self._sensed(text)
        if sensed is not None:
            return sensed
        if self.state.check_in:
            turn = self._resolve_check_in(match, text)
            if turn is not None:
                return turn
        if self._uncertain_danger(text, confidence, readings):
            return self._ask_check_in(text, confidence)
        if readings:
            text, match = self._better_reading(text, match, readings)
        if self.state.prompt is not None:
            return self._answer(text)
        if self.state.clarify is not None:
            turn = self._resolve_clarification(text)
            if turn is not None:
                return turn
        if self.state.offer_prompt_for is not None:
            turn = self._resolve_offer(match, text)
            if turn is not None:
                return turn
        return self._dispatch(match, text)

    def safety_first(self, text: str) -> Turn | None:
        """The safety reply if any part of ``text`` (of any length) is about danger, else
        None: what is checked before an input is refused (too long, not text)."""
        match = self.matcher.safety(text)
        text = " ".join(text.split())
        if match is not None:
            return self._pattern_safety(match, text, 1.0)
        return self._sensed(text)

    def start_reflection(self, intro: str | None = None) -> Turn:
        """Offer a reflective prompt now (on request or at the scheduled time)."""
        return self._ask_prompt(None, "", 1.0, intro)

    @property
    def awaiting_answer(self) -> bool:
        return self.state.prompt is not None

    @property
    def asked_a_question(self) -> bool:
        """Whether the last reply asked something a "yes" or "no" answers (an offer of a
        reflective prompt, "Do you mean X or Y?")."""
        return self.state.offer_prompt_for is not None or self.state.clarify is not None

    def end_reflection(self) -> None:
        """Give up waiting for an answer (the person stayed silent)."""
        self.state.prompt = None

    def session_command(self, text: str) -> str | None:
        """While an answer is awaited: the intent ``text`` is instead of an answer ("I'm done",
        "another one", "skip", or a safety intent), or None when it is part of the answer."""
        safety = self._safety(text)
        if safety is not None:
            return safety.intent
        command = self._command(text)
        return command.intent if command is not None else None

    @cached_property
    def answer_command_phrases(self) -> list[str]:
        """Everything the pack lets a person say instead of an answer ("I'm done", "skip",
        "another one"), spelled out (once): what a recogniser should listen for in a short
        phrase of an answer."""
        from ..pack.templates import SlotRef, expand

        return [" ".join(t.list_name if isinstance(t, SlotRef) else t for t in tokens)
                for intent in self.pack.intents.values() if intent.context == REFLECTION
                for example in intent.examples for tokens in expand(example.tree)]

    def _safety(self, text: str) -> Match | None:
        match = self.matcher.match(text)
        return match if self.is_safety(match) else None

    def understand(self, text: str) -> Match:
        """What ``text`` would match, without taking a turn (nothing changes)."""
        return self.matcher.match(text)

    def is_safety(self, match: Match) -> bool:
        """Whether ``match`` is one of the pack's safety intents."""
        return match.intent is not None and self.pack.intents[match.intent].safety

    def _safety_turn(self, match: Match, text: str) -> Turn:
        """The safety reply, with the numbers for the person's region; nothing else is
        pending after it."""
        self.state = dataclasses.replace(
            self.state, clarify=None, offer_prompt_for=None, prompt=None, check_in=False)
        intent = self.pack.intents[match.intent or ""]
        reply = render_reply(intent.replies[0], self.contacts.fields())
        turn = self._say(text, intent.name, match.confidence, {}, reply, (Action.SAFETY,))
        return dataclasses.replace(turn, details={"safety": self.contacts.to_json()})

    def _sensed(self, text: str) -> Turn | None:
        """The safety reply when the danger probe is sure that ``text`` is about danger,
        although no safety pattern matched it."""
        if self.danger is None or not self.pack.safety_intents:
            return None
        verdict = self.danger.verdict(text)
        if verdict.score < self.danger.sure:
            return None
        log.info("safety: sensed by meaning (%.3f) in %r", verdict.score, verdict.part)
        return self._safety_turn(self._safety_match(text, verdict.score), text)

    def _safety_match(self, text: str, confidence: float) -> Match:
        """``text`` taken for the pack's (first) safety intent, ``confidence`` sure."""
        return Match(text, self.pack.safety_intents[0].name, confidence)

    def _pattern_safety(self, match: Match, text: str, confidence: float) -> Turn:
        """The safety reply for ``text``, which a safety pattern matched; but when the danger
        probe is sure it is not about danger (a figure of speech, a film, a game), the judges
        disagree, and the person is asked whether they are safe rather than given the safety
        reply unasked."""
        if self.danger is None or self.check_in is None or not self.danger.clearly_not(text):
            return self._safety_turn(match, text)
        log.info("safety: a pattern matched, the meaning did not (%.3f): asking",
                 self.danger.verdict(text).score)
        return self._ask_check_in(text, confidence)

    def _probably_danger(self, text: str) -> bool:
        """Whether the danger probe finds ``text`` likely enough to be about danger to ask."""
        return self.danger is not None and self.danger.verdict(text).score >= self.danger.unsure

    # ----------------------------------------------------------------------------- check-in

    def _uncertain_danger(self, text: str, confidence: float, readings: Sequence[str]) -> bool:
        """Whether what was said might be about danger although no judge is sure: the danger
        probe finds it likely, another reading of the speech is a safety statement by the
        patterns (not by the probe: a phrase model's misreading of ordinary speech often sounds
        like danger to it), or it was heard unsurely with a danger word."""
        if self.check_in is None:
            return False
        if self._probably_danger(text):
            return True
        if any(r != text and self.matcher.safety(r) is not None for r in readings):
            return True
        if confidence >= CHECK_IN_BELOW:
            return False
        words = {stem(w) for reading in (text, *readings) for w in normalize_tokens(reading)}
        return not words.isdisjoint(self.danger_stems)

    def _better_reading(
        self, text: str, match: Match, readings: Sequence[str]
    ) -> tuple[str, Match]:
        """The reading of speech to act on: the first, unless another matches an intent
        clearly better (by :data:`READING_MARGIN`), or the first matches none, or both mean
        the same intent and the other agrees on every slot the first fills and fills more (a
        phrase model hears the pack's words, "oat milk", where an open one hears "old milk")."""
        for reading in readings:
            other = self.matcher.match(reading)
            if other.intent is None or self.is_safety(other):
                continue
            better = (match.intent is None
                      or other.confidence >= match.confidence + READING_MARGIN
                      or (other.intent == match.intent and len(other.slots) > len(match.slots)
                          and match.slots.items() <= other.slots.items()))
            if better:
                text, match = " ".join(reading.split()), other
        return text, match

    def _ask_check_in(self, text: str, confidence: float) -> Turn:
        assert self.check_in is not None and self.check_in.question is not None
        self.state.check_in = True
        return self._say(text, self.check_in.name, confidence, {}, self.check_in.question,
                         (Action.CHECK_IN,))

    def _resolve_check_in(self, match: Match, text: str) -> Turn | None:
        """The answer to "Are you safe right now?". Only a clear "yes, I'm safe" (one of the
        check-in's own answers, or a plain yes, with no more negation than the answer it
        matched: "no, I'm fine" is safe, "no, I'm not safe" is not) gets the short word of
        care; a confident ordinary request is taken as one (None); anything else, "no",
        "not really", "he's here", gets the safety reply."""
        self.state.check_in = False
        check_in = self.check_in
        if check_in is None:
            return None
        said = negations(match.text)
        answer = self.matcher.match(text, context=check_in.context, only=(check_in.name,))
        safe: Match | None = answer
        if not (answer.intent is not None and answer.confidence >= CHECK_IN_ANSWER
                and said <= negations(answer.example or "")):
            safe = match if self.pack.does(match.intent, "yes") and not said else None
        if safe is not None:
            reply = render_reply(self.rng.choice(check_in.replies), self.contacts.fields())
            return self._say(text, check_in.name, safe.confidence, {}, reply)
        if (match.intent is not None and match.confidence >= CHECK_IN_ANSWER and not said
                and not self.pack.does(match.intent, "no")):
            return None
        return self._safety_turn(self._safety_match(match.text, match.confidence), text)

    def _command(self, text: str) -> Match | None:
        allowed = [i.name for i in self.pack.intents.values() if i.context == REFLECTION]
        command = self.matcher.match(text, context=REFLECTION, only=allowed)
        short = len(text.split()) <= SESSION_COMMAND_WORDS
        if command.intent is not None and short and command.confidence >= SESSION_COMMAND_MIN:
            return command
        return None

    # ------------------------------------------------------------------------------ dispatch

    def _dispatch(self, match: Match, text: str) -> Turn:
        self.state.clarify = None
        self.state.offer_prompt_for = None
        if match.intent is None:
            return self._say(text, None, match.confidence, {}, self._fallback())
        intent = self.pack.intents[match.intent]
        if intent.safety:
            return self._safety_turn(match, text)
        if match.ambiguous and self._clarifiable(match):
            return self._clarify(match, text)
        handler = _HANDLERS.get(intent.does or "")
        if handler is not None:
            return handler(self, intent, match, text)
        if intent.prompts or intent.does not in CONVERSATION:
            return self._topic(intent, match, text)
        return self._say(text, intent.name, match.confidence, match.slots,
                         render_reply(intent.replies[0], match.slots))

    def _topic(self, intent: Intent, match: Match, text: str) -> Turn:
        self.state.topic = intent
        self.state.reply_index = 0
        if intent.prompts:
            self.state.recent_topics = [*self.state.recent_topics[-4:], intent.name]
        reply = render_reply(intent.replies[0], match.slots)
        return self._say(text, intent.name, match.confidence, match.slots, reply)

    def _say(
        self, text: str, intent: str | None, confidence: float, slots: dict[str, str],
        reply: str, actions: tuple[str, ...] = (), remember: bool = True,
    ) -> Turn:
        if remember and reply:
            self.state.last_reply = reply
        return Turn(text, intent, confidence, dict(slots), reply, actions)

    def _fallback(self) -> str:
        topics = [i.topic for i in self.pack.visible(None) if i.prompts] or [
            i.topic for i in self.pack.visible(None)
            if i.does not in CONVERSATION and not i.safety
        ]
        picked = self.rng.sample(topics, min(3, len(topics)))
        if not picked:
            return message("cannot_help")
        listed = picked[0] if len(picked) == 1 else (
            ", ".join(picked[:-1]) + f" {message('or')} " + picked[-1])
        reply = message("cannot_help_topics", topics=listed)
        return f"{reply} {message('say_help')}" if self.pack.doing("help") else reply

    # --------------------------------------------------------------------------- clarifying

    def _clarifiable(self, match: Match) -> bool:
        names = [name for name, _ in match.alternatives[:2]]
        return len(names) == 2 and all(
            n in self.pack.intents and self.pack.intents[n].does not in CONVERSATION
            and not self.pack.intents[n].safety
            and not self.pack.intents[n].slot_lists()
            for n in names
        )

    def _clarify(self, match: Match, text: str) -> Turn:
        first, second = (self.pack.intents[n] for n, _ in match.alternatives[:2])
        self.state.clarify = (first.name, second.name)
        reply = message("clarify", first=first.topic, second=second.topic)
        return self._say(text, match.intent, match.confidence, {}, reply, (Action.CLARIFY,))

    def _resolve_clarification(self, text: str) -> Turn | None:
        if self.state.clarify is None:
            return None
        first, second = self.state.clarify
        words = set(text.lower().split())
        chosen: str | None = None
        if words & {"first", "former", "1st", "one"} and not words & {"second", "latter"}:
            chosen = first
        elif words & {"second", "latter", "2nd", "other", "last"}:
            chosen = second
        elif (named := self._named_topic(text, (first, second))) is not None:
            chosen = named
        else:
            match = self.matcher.match(text, only=(first, second))
            floor = self.matcher.settings.threshold - 0.15
            if match.intent is not None or match.confidence >= floor:
                chosen = match.intent or (match.alternatives[0][0] if match.alternatives else None)
        self.state.clarify = None
        if chosen is None:
            return None
        intent = self.pack.intents[chosen]
        return self._topic(intent, Match(text, chosen, 1.0), text)

    def _named_topic(self, text: str, names: tuple[str, str]) -> str | None:
        """The intent whose topic the answer names ("the apology one"), if it is clear."""
        from rapidfuzz import fuzz, process

        topics = [self.pack.intents[n].topic for n in names]
        found = process.extractOne(text.lower(), topics, scorer=fuzz.partial_ratio,
                                   score_cutoff=80)
        return names[found[2]] if found else None

    # ------------------------------------------------------------------------------ prompts

    def _resolve_offer(self, match: Match, text: str) -> Turn | None:
        topic = self.state.offer_prompt_for
        if self.pack.does(match.intent, "yes"):
            return self._ask_prompt(topic, text, match.confidence)
        if self.pack.does(match.intent, "no"):
            self.state.offer_prompt_for = None
            return self._say(text, match.intent, match.confidence, {}, self._reply_of("no"))
        return None

    def _ask_prompt(
        self, topic: str | None, text: str, confidence: float, intro: str | None = None
    ) -> Turn:
        self.state.offer_prompt_for = None
        recent = [*self.state.recent_topics, topic] if topic else self.state.recent_topics
        prompt = self.deck.draw(recent, avoid=self.state.prompt.text if self.state.prompt else None)
        if prompt is None:
            return self._say(text, self._name_of("reflection_prompt"), confidence, {},
                             message("no_prompts"))
        self.state.prompt = prompt
        lead = intro if intro is not None else message("prompt_lead")
        reply = f"{lead} {prompt.text}".strip()
        return self._say(text, self._name_of("reflection_prompt"), confidence, {}, reply,
                         (Action.AWAIT_ANSWER,))

    def _answer(self, text: str) -> Turn:
        """The person is answering a reflective prompt."""
        prompt = self.state.prompt
        if prompt is None:
            return self.handle(text)
        command = self._command(text)
        if command is not None:
            return self._session_command(command, text)
        if not text:
            return self._say(text, None, 0.0, {}, message("take_your_time"),
                             (Action.AWAIT_ANSWER,), remember=False)
        self.state.prompt = None
        kept = self.services.journal_save(prompt.text, text)
        reply = self._reply_of("answer_done", message("answer_thanks"))
        if kept:
            reply += " " + message("answer_kept")
        elif kept is False:
            reply += " " + message("answer_not_kept")
        return self._say(text, None, 1.0, {}, reply)

    def _session_command(self, command: Match, text: str) -> Turn:
        if self.pack.does(command.intent, "another_prompt"):
            return self._ask_prompt(None, text, command.confidence,
                                    message("another_prompt"))
        self.state.prompt = None
        name = command.intent or self._name_of("answer_done")
        intent = self.pack.intents.get(name)
        reply = self.rng.choice(intent.replies) if intent else self._reply_of("answer_done")
        return self._say(text, name, command.confidence, {}, reply)

    def _reply_of(self, behaviour: str, default: str | None = None) -> str:
        """A reply of the intent that does ``behaviour``, or ``default`` ("Okay.") if none
        does."""
        intent = self.pack.doing(behaviour)
        return self.rng.choice(intent.replies) if intent else (default or message("okay"))

    def _name_of(self, behaviour: str) -> str:
        """The name of the intent that does ``behaviour`` (the behaviour's own name if none
        does: what ``--json`` reports)."""
        intent = self.pack.doing(behaviour)
        return intent.name if intent else behaviour


# -------------------------------------------------------------------------- intent handlers

def _help(dialog: Dialog, intent: Intent, match: Match, text: str) -> Turn:
    return dialog._say(text, intent.name, match.confidence, {}, intent.replies[0])


def _repeat(dialog: Dialog, intent: Intent, match: Match, text: str) -> Turn:
    reply = dialog.state.last_reply or intent.replies[0]
    return dialog._say(text, intent.name, match.confidence, {}, reply)


def _tell_me_more(dialog: Dialog, intent: Intent, match: Match, text: str) -> Turn:
    state = dialog.state
    topic = state.topic
    if topic is None:
        return dialog._say(text, intent.name, match.confidence, {}, intent.replies[0])
    if state.reply_index + 1 < len(topic.replies):
        state.reply_index += 1
        return dialog._say(text, intent.name, match.confidence, {},
                           topic.replies[state.reply_index])
    if topic.prompts:
        state.offer_prompt_for = topic.name
        reply = message("topic_end_offer", topic=topic.topic)
        return dialog._say(text, intent.name, match.confidence, {}, reply)
    return dialog._say(text, intent.name, match.confidence, {},
                       message("topic_end", topic=topic.topic))


def _stop(dialog: Dialog, intent: Intent, match: Match, text: str) -> Turn:
    return dialog._say(text, intent.name, match.confidence, {}, intent.replies[0],
                       (Action.STOP,), remember=False)


def _goodbye(dialog: Dialog, intent: Intent, match: Match, text: str) -> Turn:
    return dialog._say(text, intent.name, match.confidence, {},
                       dialog.rng.choice(intent.replies), (Action.END,))


Handler = Callable[["Dialog", Intent, Match, str], Turn]
"""Reacts to one intent: (dialog, intent, match, text) -> turn."""


def _rate(action: str) -> Handler:
    def handler(dialog: Dialog, intent: Intent, match: Match, text: str) -> Turn:
        return dialog._say(text, intent.name, match.confidence, {}, intent.replies[0], (action,),
                           remember=False)
    return handler


def _reflection_prompt(dialog: Dialog, intent: Intent, match: Match, text: str) -> Turn:
    topic = dialog.state.topic.name if dialog.state.topic else None
    return dialog._ask_prompt(topic, text, match.confidence)


def _yes(dialog: Dialog, intent: Intent, match: Match, text: str) -> Turn:
    return dialog._say(text, intent.name, match.confidence, {}, intent.replies[0])


def _schedule(dialog: Dialog, intent: Intent, match: Match, text: str) -> Turn:
    slots = dict(match.slots)
    if "time" in slots and not says_part_of_day(tuple(match.text.split())):
        slots["part_of_day"] = "unsaid"  # for the services only: "move it to ten"
    reply = dialog.services.schedule(slots) or render_reply(intent.replies[0], match.slots)
    return dialog._say(text, intent.name, match.confidence, match.slots, reply)


def _journal(enabled: bool) -> Handler:
    def handler(dialog: Dialog, intent: Intent, match: Match, text: str) -> Turn:
        reply = dialog.services.journal_set(enabled) or intent.replies[0]
        return dialog._say(text, intent.name, match.confidence, {}, reply)
    return handler


def _journal_last(dialog: Dialog, intent: Intent, match: Match, text: str) -> Turn:
    reply = dialog.services.journal_last() or intent.replies[0]
    return dialog._say(text, intent.name, match.confidence, {}, reply)


def _generic(dialog: Dialog, intent: Intent, match: Match, text: str) -> Turn:
    return dialog._say(text, intent.name, match.confidence, match.slots,
                       render_reply(dialog.rng.choice(intent.replies), match.slots))


_HANDLERS: dict[str, Handler] = {
    "help": _help, "repeat": _repeat, "tell_me_more": _tell_me_more, "stop": _stop,
    "goodbye": _goodbye, "slower": _rate(Action.SLOWER), "faster": _rate(Action.FASTER),
    "reflection_prompt": _reflection_prompt, "reflection_schedule": _schedule,
    "journal_enable": _journal(True), "journal_disable": _journal(False),
    "journal_read_last": _journal_last, "yes": _yes, "no": _yes, "thanks": _generic,
    "greeting": _generic, "privacy": _help,
}
