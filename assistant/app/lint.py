"""``intents check`` and ``intents list``: what a pack author needs to see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, overload

from ..base.config import Settings
from ..base.errors import IntentFileError, Location
from ..pack import templates
from ..pack.intents import BEHAVIOURS, Intent, IntentPack
from ..understanding.matcher import Matcher
from .runtime import intent_dirs, load_pack

MAX_REPLY_WORDS = 45
"""Replies longer than this are hard to follow when spoken."""


@dataclass(frozen=True)
class Finding:
    level: str  # "error" or "warning"
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.message}"


@overload
def sample_expansions(intent: Intent) -> list[str]: ...
@overload
def sample_expansions(intent: Intent, with_lines: Literal[True]) -> list[tuple[int | None, str]]:
    ...
def sample_expansions(intent: Intent, with_lines: bool = False) -> Any:
    """The first, middle and last expansion of every template (slots as ``{list}``)."""
    sentences: list[tuple[int | None, str]] = []
    for example in intent.examples:
        expanded = templates.expand(example.tree)
        for index in sorted({0, len(expanded) // 2, len(expanded) - 1}):
            sentences.append((example.line, " ".join(
                t if isinstance(t, str) else "{" + t.list_name + "}" for t in expanded[index]
            )))
    return sentences if with_lines else [sentence for _, sentence in sentences]


def collisions(pack: IntentPack, matcher: Matcher) -> list[Finding]:
    """Examples that the matcher gives to another intent than their own."""
    findings = []
    for intent in pack.intents.values():
        for line, sentence in sample_expansions(intent, with_lines=True):
            location = Location(intent.location.file, line, intent.name).prefix()
            if "{" in sentence:
                continue  # slot examples are checked with real values by the tests
            match = matcher.match(sentence, context=intent.context)
            if match.intent is not None and match.intent != intent.name:
                own = dict(match.alternatives).get(intent.name, 0.0)
                findings.append(Finding("warning", (
                    f"{location}: example \"{sentence}\" is matched to intent "
                    f"'{match.intent}' ({match.confidence:.2f}; its own intent scores "
                    f"{own:.2f}): make the two intents' examples more distinct"
                )))
    return findings


def behaviours(pack: IntentPack) -> list[Finding]:
    """A note on what the dialog can do that no intent of the pack does (``does:``)."""
    missing = [b for b in BEHAVIOURS if pack.doing(b) is None]
    return [Finding("note", (
        f"behaviours: no intent does {', '.join(missing)} (add an intent with 'does: NAME' to "
        "have it; the assistant works without)"))] if missing else []


def lint_pack(pack: IntentPack) -> list[Finding]:
    findings = []
    for intent in pack.intents.values():
        where = intent.location.prefix()
        for reply in (*intent.replies, *intent.prompts):
            words = len(reply.split())
            if words > MAX_REPLY_WORDS:
                findings.append(Finding("warning", (
                    f"{where}: \"{reply[:40]}...\" has {words} words; keep spoken text under "
                    f"{MAX_REPLY_WORDS}"
                )))
    return findings


@dataclass(frozen=True)
class Report:
    """What ``intents check`` found: the findings, and a one-line summary when it loaded."""

    findings: list[Finding]
    summary: str | None = None

    @property
    def failed(self) -> bool:
        return any(f.level == "error" for f in self.findings)


def check(settings: Settings) -> Report:
    """Load the configured pack and check it: file errors, lint, collisions between intents,
    safety coverage, behaviours and the recogniser's vocabulary."""
    try:
        pack = load_pack(settings)
    except IntentFileError as exc:
        problems = getattr(exc, "problems", [exc])
        return Report([Finding("error", str(p)) for p in problems])
    matcher = Matcher(pack, settings.matcher)
    findings = (lint_pack(pack) + collisions(pack, matcher) + _safety_coverage(pack, matcher)
                + behaviours(pack) + _vocabulary(pack, settings))
    dirs = ", ".join(str(d) for d in intent_dirs(settings))
    summary = (f"{len(pack.intents)} intents, {len(matcher.examples)} example sentences, "
               f"{len(pack.lists)} lists from {dirs}: "
               f"{sum(f.level == 'warning' for f in findings)} warnings")
    return Report(findings, summary)


SAFETY_PROBES = (
    "i want to kill myself", "i don't see the point in living any more",
    "he hits me when he is drunk", "she said she would kill me if i leave",
    "i am scared to go home", "he checks my phone and won't let me see my friends",
    "he hurts the kids", "my friend says she wants to die", "he forced me to have sex",
)
"""One statement of each kind of danger; every pack must answer each with the safety reply."""


def _safety_coverage(pack: IntentPack, matcher: Matcher) -> list[Finding]:
    """What the loaded pack knows of danger: the safety intents (always the shipped ones,
    which no pack can replace), their sentences, and whether each kind of danger is caught."""
    intents = pack.safety_intents
    files = sorted({str(i.location.file) for i in intents})
    exceptions = sum(len(i.not_safety) for i in intents)
    danger = sum(len(i.danger_words) for i in intents)
    missed = [p for p in SAFETY_PROBES if matcher.safety(p) is None]
    findings = [Finding("note", (
        f"safety: {', '.join(i.name for i in intents)} ({matcher.safety_sentences} "
        f"sentences, {exceptions} exceptions, {danger} danger words for the spoken check-in; "
        f"built in, cannot be replaced) from {', '.join(files)}; "
        f"{len(SAFETY_PROBES) - len(missed)}/{len(SAFETY_PROBES)} kinds of danger caught"))]
    findings += [Finding("error", f"safety: '{p}' does not get the safety reply; "
                                  "restore the shipped safety.yaml") for p in missed]
    return findings


def _vocabulary(pack: IntentPack, settings: Settings) -> list[Finding]:
    """What the speech recogniser does not know of the pack's words, and what is done."""
    from ..speech.stt import vocabulary_report

    lines = vocabulary_report(settings.stt, pack, (settings.listen.wake_phrase,))
    return [Finding("note", line) for line in lines]


def pack_rows(pack: IntentPack) -> list[dict[str, object]]:
    """One row per intent for ``intents list``: sizes, topic, slots, flags, file."""
    return [{
        "name": intent.name, "topic": intent.topic, "templates": len(intent.examples),
        "sentences": sum(templates.count(e.tree) for e in intent.examples),
        "replies": len(intent.replies), "prompts": len(intent.prompts),
        "slots": intent.slot_lists(), "safety": intent.safety, "context": intent.context,
        "file": str(intent.location.file),
    } for intent in pack.intents.values()]
