"""Intent packs: load, validate and merge the YAML files of ``intents/<lang>/``.

Three loading layers, as in hassil: :meth:`IntentPack.from_dirs` (directories, later ones
override earlier intents by name) -> :func:`parse_file` (one file's text) -> :func:`parse_data`
(already-parsed data, with or without line numbers). A pack that has any problem is refused
whole; every problem names its file, line and intent.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..base.errors import IntentFileError, Location, TemplateError, amount, shorten
from ..base.limits import (
    MAX_EXPANSIONS,
    MAX_FILE_BYTES,
    MAX_ITEMS,
    MAX_PACK_SENTENCES,
    MAX_TEXT_CHARS,
    MAX_VALUE_EXPANSIONS,
)
from ..base.normalize import normalize
from ..base.yamlsource import Located, LocatedList, YamlError, load
from . import templates

BUILTIN_LISTS = ("time", "number")
"""Lists provided by code (see :mod:`assistant.pack.slots`)."""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_REPLY_SLOT = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_TOP_KEYS = {"language", "lists", "intents"}
_INTENT_KEYS = {
    "name", "topic", "examples", "keywords", "replies", "prompts", "safety", "context",
    "out_of_scope", "not_safety", "question", "danger_words", "does",
}
BEHAVIOURS = {
    "help": "say what the assistant can do",
    "privacy": "say what the assistant keeps and where",
    "repeat": "say the last reply again",
    "tell_me_more": "say the next reply of the current topic",
    "stop": "stop speaking",
    "goodbye": "end the session",
    "thanks": "acknowledge thanks",
    "greeting": "greet back",
    "slower": "speak more slowly",
    "faster": "speak faster",
    "yes": "accept what was offered or asked",
    "no": "decline what was offered or asked",
    "reflection_prompt": "ask a reflective question",
    "reflection_schedule": "set, move, cancel or tell the daily reflection's time",
    "journal_enable": "turn the journal on",
    "journal_disable": "turn the journal off",
    "journal_read_last": "read back the last journal entry",
    "another_prompt": "(while answering) ask a different question",
    "answer_done": "(while answering) end the answer",
}
"""What the dialog can do beyond replying (``does:`` of an intent) -> what that is. An intent
without ``does:`` whose name is one of these does it too, so older packs keep working."""
SAFETY_FIELDS = ("emergency", "crisis_line")
"""Placeholders a safety reply may use: the region's emergency number and crisis line."""
_VALUE_KEYS = {"in", "out"}


@dataclass(frozen=True)
class ListValue:
    """One value of a slot list: what people say (a template) and what the slot gets."""

    spoken: templates.Sequence
    out: str
    line: int | None = None


@dataclass(frozen=True)
class SlotList:
    name: str
    values: tuple[ListValue, ...]
    location: Location = field(default_factory=Location)

    def phrases(self) -> list[tuple[str, str]]:
        """Every normalised spoken form with its value: ``[("at night", "evening"), ...]``."""
        result = []
        for value in self.values:
            for tokens in templates.expand(value.spoken):
                result.append((normalize(" ".join(str(t) for t in tokens)), value.out))
        return result


@dataclass(frozen=True)
class Example:
    template: str
    tree: templates.Sequence
    line: int | None = None


@dataclass(frozen=True)
class Intent:
    name: str
    topic: str
    examples: tuple[Example, ...]
    replies: tuple[str, ...]
    prompts: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    safety: bool = False
    context: str | None = None
    out_of_scope: bool = False
    """Requests the assistant cannot help with: matching them gives no intent."""
    not_safety: tuple[Example, ...] = ()
    """(Safety intents) everyday phrases that contain danger words ("it kills me"): a safety
    example found inside one of these does not count."""
    danger_words: tuple[str, ...] = ()
    """(Safety intents) words that, in speech heard unsurely, are worth asking about: the
    assistant then checks in ("Are you safe right now?") instead of guessing a topic."""
    question: str | None = None
    """(A check-in) the question the assistant asks before this intent's answers can match:
    the spoken safety check-in asks "Are you safe right now?"."""
    does: str | None = None
    """What the dialog does for this intent beyond replying (one of :data:`BEHAVIOURS`), so
    the code never depends on intent names: renaming an intent keeps its behaviour."""
    location: Location = field(default_factory=Location)

    @property
    def protected(self) -> bool:
        """Safety intents and the safety check-in: a later pack cannot replace them."""
        return self.safety or self.question is not None

    def slot_lists(self) -> dict[str, str]:
        """Slot name -> list name, over all examples."""
        return {
            slot.name: slot.list_name
            for example in self.examples
            for slot in templates.slots_of(example.tree)
        }


@dataclass(frozen=True)
class IntentPack:
    language: str
    intents: dict[str, Intent]
    lists: dict[str, SlotList]
    sources: tuple[Path, ...] = ()
    implicit: frozenset[str] = frozenset()
    """Intents loaded only because every pack keeps them (the shipped safety intents beside a
    pack of one's own): the matcher knows them, but the phrase model is not built from them,
    so that their thousands of sentences do not crowd out the pack's own phrases."""

    @classmethod
    def from_dirs(
        cls, dirs: Sequence[Path], language: str | None = None, required: Sequence[Path] = ()
    ) -> IntentPack:
        """Load every ``*.yaml`` of each directory; later directories override by name.
        ``required`` are files loaded before the directories (the shipped safety intents, which
        even a pack of one's own alone keeps); a file also in a directory is loaded once."""
        if not dirs:
            raise IntentFileError(
                "no intent directories to load (drop --no-default-intents or add --intents DIR)"
            )
        files: list[tuple[Path, ParsedFile]] = []
        problems: list[IntentFileError] = []
        loaded: set[Path] = set()
        for directory in [None, *dirs]:
            paths = list(required) if directory is None else _yaml_files(directory, language)
            dir_names: dict[str, Location] = {}
            for path in paths:
                if path.resolve() in loaded:
                    continue
                loaded.add(path.resolve())
                try:
                    parsed = parse_file(path)
                except IntentFileError as exc:
                    problems.extend(exc.problems if isinstance(exc, PackError) else [exc])
                    continue
                for intent in parsed.intents:
                    if intent.name in dir_names:
                        first = dir_names[intent.name]
                        problems.append(IntentFileError(
                            f"duplicate intent name (also at {first.prefix().split(': ')[0]}); "
                            "rename one of them",
                            intent.location,
                        ))
                    dir_names[intent.name] = intent.location
                files.append((path, parsed))
        if problems:
            raise PackError(problems)
        pack = cls.merge([parsed for _, parsed in files], [path for path, _ in files])
        chosen = {p.resolve() for d in dirs for p in _yaml_files(d, language)}
        implicit = {i.name for path, parsed in files if path.resolve() not in chosen
                    for i in parsed.intents}
        implicit -= {i.name for path, parsed in files if path.resolve() in chosen
                     for i in parsed.intents}
        return dataclasses.replace(pack, implicit=frozenset(implicit))

    @classmethod
    def from_yaml(cls, text: str, file: str = "<string>") -> IntentPack:
        """A pack from one YAML document (handy in tests)."""
        return cls.merge([parse_file_text(text, file)], [Path(file)])

    @classmethod
    def merge(cls, parsed: Iterable[ParsedFile], sources: Sequence[Path] = ()) -> IntentPack:
        intents: dict[str, Intent] = {}
        lists: dict[str, SlotList] = {}
        language: str | None = None
        problems: list[IntentFileError] = []
        for item in parsed:
            if language is None:
                language = item.language
            elif item.language != language:
                problems.append(IntentFileError(
                    f"language '{item.language}' differs from the pack's '{language}'; "
                    "keep one language per pack",
                    item.location,
                ))
            for slot_list in item.lists:
                lists[slot_list.name] = slot_list
            for intent in item.intents:
                problem = _merge_intent(intents, intent)
                if problem is not None:
                    problems.append(problem)
        for intent in intents.values():
            problems.extend(_check_references(intent, lists))
        problems.extend(_check_size(intents, lists))
        if problems:
            raise PackError(problems)
        if not intents:
            raise IntentFileError("the intent pack has no intents")
        return cls(language or "en", intents, lists, tuple(sources))

    def visible(self, context: str | None) -> list[Intent]:
        """Intents that can match in ``context`` (context-free ones plus that context's)."""
        return [i for i in self.intents.values() if i.context is None or i.context == context]

    @property
    def safety_intents(self) -> list[Intent]:
        return [i for i in self.intents.values() if i.safety]

    def doing(self, behaviour: str) -> Intent | None:
        """The intent that does ``behaviour`` (see :data:`BEHAVIOURS`), if the pack has one."""
        return next((i for i in self.intents.values() if i.does == behaviour), None)

    def does(self, name: str | None, behaviour: str) -> bool:
        """Whether the intent called ``name`` does ``behaviour``."""
        intent = self.intents.get(name) if name is not None else None
        return intent is not None and intent.does == behaviour


class PackError(IntentFileError):
    """Several problems in a pack: the message is the first, ``problems`` holds all."""

    def __init__(self, problems: list[IntentFileError]) -> None:
        self.problems = problems
        first = problems[0]
        more = len(problems) - 1
        suffix = (
            f" (and {more} more problem{'s' if more > 1 else ''}: "
            "run 'trust-assistant intents check')" if more else ""
        )
        super().__init__(first.message + suffix, first.location)


@dataclass(frozen=True)
class ParsedFile:
    language: str
    lists: tuple[SlotList, ...]
    intents: tuple[Intent, ...]
    location: Location


def shipped_dir() -> Path:
    """The directory holding the shipped packs (``intents/`` of the source tree)."""
    try:
        path = Path(str(importlib.resources.files("assistant.shipped_intents")))
        if path.is_dir():
            return path
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[2] / "intents"


def _yaml_files(directory: Path, language: str | None) -> list[Path]:
    if not directory.exists():
        raise IntentFileError(f"intent directory {directory} does not exist")
    if not directory.is_dir():
        raise IntentFileError(f"{directory} is not a directory (--intents takes a directory)")
    if language and (directory / language).is_dir():
        directory = directory / language
    paths = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))
    packs = sorted(p.name for p in directory.iterdir()
                   if p.is_dir() and any(p.glob("*.yaml")))
    if not paths and language and packs:
        raise IntentFileError(
            f"no intent pack for language '{language}' in {directory} (packs there: "
            f"{', '.join(packs)}): set 'language:' in the config file to one of them, or add "
            f"the pack as {directory / language}/")
    if not paths:
        raise IntentFileError(f"no .yaml files in intent directory {directory}")
    return paths


def parse_file(path: Path) -> ParsedFile:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise IntentFileError(
                f"file too large ({size} bytes; the limit is {MAX_FILE_BYTES}): split it into "
                "several files", Location(path))
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise IntentFileError("not UTF-8 text; save the file as UTF-8", Location(path)) from None
    except OSError as exc:
        raise IntentFileError(f"cannot read file: {exc.strerror}", Location(path)) from None
    return parse_file_text(text, path)


def parse_file_text(text: str, file: Path | str) -> ParsedFile:
    try:
        data = load(text)
    except YamlError as exc:
        raise IntentFileError(exc.message, Location(file, exc.line)) from None
    return parse_data(data, file)


def parse_data(data: Any, file: Path | str = "<data>") -> ParsedFile:
    """Validate one file's parsed data; raise :class:`PackError` listing every problem."""
    checker = _FileChecker(file)
    parsed = checker.check(data)
    if checker.problems or parsed is None:
        raise PackError(checker.problems or [IntentFileError("empty file", Location(file))])
    return parsed


def _line(container: Any, key: str | int) -> int | None:
    if isinstance(container, Located) and isinstance(key, str):
        return container.line_of(key)
    if isinstance(container, LocatedList) and isinstance(key, int):
        return container.line_of(key)
    return getattr(container, "line", None)


class _FileChecker:
    def __init__(self, file: Path | str) -> None:
        self.file = file
        self.problems: list[IntentFileError] = []
        self.sentences = 0
        """Sentences the file's examples and list values expand to, so far."""

    def error(self, message: str, line: int | None, intent: str | None = None) -> None:
        self.problems.append(IntentFileError(message, Location(self.file, line, intent)))

    def within_budget(self, sentences: int, line: int | None, intent: str | None = None) -> bool:
        """Count ``sentences`` towards the file's :data:`MAX_PACK_SENTENCES`; report the first
        template that goes past it."""
        before = self.sentences
        self.sentences += sentences
        if self.sentences <= MAX_PACK_SENTENCES:
            return True
        if before <= MAX_PACK_SENTENCES:
            self.error(
                f"the file expands to more than {MAX_PACK_SENTENCES} sentences with this one "
                "(the limit for a file or a pack): use fewer alternatives, or a {list} for "
                "words that vary", line, intent)
        return False

    def too_many(self, raw: Any, what: str, line: int | None, intent: str | None = None) -> bool:
        """Whether list ``raw`` is longer than :data:`MAX_ITEMS` (reported if so)."""
        if not isinstance(raw, list) or len(raw) <= MAX_ITEMS:
            return False
        self.error(f"too many {what} ({len(raw)}; the limit is {MAX_ITEMS}): split them "
                   "into several intents or files", line, intent)
        return True

    def check(self, data: Any) -> ParsedFile | None:
        if data is None:
            self.error("the file is empty; it needs 'language:' and 'intents:'", 1)
            return None
        if not isinstance(data, dict):
            self.error("the file must be a mapping with 'language:' and 'intents:'", 1)
            return None
        for key in data:
            if key not in _TOP_KEYS:
                self.error(f"unknown key '{key}' (expected: language, lists, intents)",
                           _line(data, key))
        language = data.get("language")
        if not isinstance(language, str) or not language.strip():
            self.error("missing 'language:' (for example 'language: en')", getattr(data, "line", 1))
            language = "en"
        lists = self.check_lists(data.get("lists"), _line(data, "lists"))
        intents = self.check_intents(data.get("intents"), _line(data, "intents"))
        return ParsedFile(language.strip(), tuple(lists), tuple(intents),
                          Location(self.file, getattr(data, "line", None)))

    def check_lists(self, raw: Any, line: int | None) -> list[SlotList]:
        if raw is None:
            return []
        if not isinstance(raw, dict):
            self.error("'lists:' must map list names to {values: [...]}", line)
            return []
        if self.too_many(list(raw), "lists", line):
            return []
        result = []
        for name, body in raw.items():
            where = _line(raw, name)
            if not _NAME.match(name):
                self.error(f"bad list name '{name}' (use lower_snake_case)", where)
                continue
            if name in BUILTIN_LISTS:
                self.error(f"list '{name}' is built in; choose another name", where)
                continue
            values = body.get("values") if isinstance(body, dict) else None
            if not isinstance(values, list) or not values:
                self.error(f"list '{name}' needs 'values:' with at least one value", where)
                continue
            if isinstance(body, dict) and set(body) - {"values"}:
                extra = ", ".join(sorted(set(body) - {"values"}))
                self.error(f"list '{name}': unknown key {extra} (expected: values)", where)
            if self.too_many(values, f"values in list '{name}'", _line(body, "values")):
                continue
            checked = [self.check_value(name, values, i) for i in range(len(values))]
            result.append(SlotList(
                name, tuple(v for v in checked if v is not None), Location(self.file, where)
            ))
        return result

    def check_value(self, list_name: str, values: list[Any], index: int) -> ListValue | None:
        raw, line = values[index], _line(values, index)
        if isinstance(raw, str | int | float) and not isinstance(raw, bool):
            spoken, out = str(raw), str(raw)
        elif isinstance(raw, dict) and "in" in raw and "out" in raw and not set(raw) - _VALUE_KEYS:
            spoken, out = str(raw["in"]), str(raw["out"])
        else:
            self.error(f"list '{list_name}': a value must be a word or {{in: ..., out: ...}}", line)
            return None
        try:
            tree = templates.parse(spoken)
        except TemplateError as exc:
            self.error(f"list '{list_name}': {exc}", line)
            return None
        forms = templates.count(tree)
        if forms > MAX_VALUE_EXPANSIONS:
            self.error(f"list '{list_name}': value \"{shorten(spoken)}\" expands to {forms} "
                       f"spoken forms (the limit is {MAX_VALUE_EXPANSIONS}); split it into "
                       "several values", line)
            return None
        if not self.within_budget(forms, line):
            return None
        if templates.slots_of(tree):
            self.error(f"list '{list_name}': values cannot contain slots", line)
            return None
        return ListValue(tree, out, line)

    def check_intents(self, raw: Any, line: int | None) -> list[Intent]:
        if raw is None:
            self.error("missing 'intents:' (a list of intents)", line or 1)
            return []
        if not isinstance(raw, list):
            self.error("'intents:' must be a list of intents ('- name: ...')", line)
            return []
        if self.too_many(raw, "intents in one file", line):
            return []
        seen: dict[str, int | None] = {}
        result = []
        for index, body in enumerate(raw):
            intent = self.check_intent(body, _line(raw, index))
            if intent is None:
                continue
            if intent.name in seen:
                self.error(f"duplicate intent name (first defined at line {seen[intent.name]})",
                           intent.location.line, intent.name)
                continue
            seen[intent.name] = intent.location.line
            result.append(intent)
        return result

    def check_intent(self, body: Any, line: int | None) -> Intent | None:
        if not isinstance(body, dict):
            self.error("each intent must be a mapping starting with 'name:'", line)
            return None
        name = body.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            self.error("intent needs 'name:' in lower_snake_case", line)
            return None
        count_before = len(self.problems)
        for key in body:
            if key not in _INTENT_KEYS:
                self.error(f"unknown key '{key}' (expected: {', '.join(sorted(_INTENT_KEYS))})",
                           _line(body, key), name)
        examples = self.check_examples(body, name)
        not_safety = self.check_examples(body, name, key="not_safety", required=False)
        if not_safety and body.get("safety") is not True:
            self.error("'not_safety:' is only for safety intents (add 'safety: true')",
                       _line(body, "not_safety"), name)
        replies = self.strings(body, "replies", name, required=True)
        fields = SAFETY_FIELDS if body.get("safety") is True or "question" in body else ()
        for reply_index, reply in enumerate(replies):
            self.check_reply_slots(reply, examples, name, _line(body.get("replies"), reply_index),
                                   fields)
        prompts = self.strings(body, "prompts", name, required=False)
        keywords = self.strings(body, "keywords", name, required=False)
        danger_words = self.strings(body, "danger_words", name, required=False)
        if danger_words and body.get("safety") is not True:
            self.error("'danger_words:' is only for safety intents (add 'safety: true')",
                       _line(body, "danger_words"), name)
        topic = body.get("topic", name.replace("_", " "))
        if not isinstance(topic, str) or not topic.strip() or len(topic) > MAX_TEXT_CHARS:
            self.error("'topic:' must be a short phrase", _line(body, "topic"), name)
        safety = body.get("safety", False)
        if not isinstance(safety, bool):
            self.error("'safety:' must be true or false", _line(body, "safety"), name)
        out_of_scope = body.get("out_of_scope", False)
        if not isinstance(out_of_scope, bool):
            self.error("'out_of_scope:' must be true or false", _line(body, "out_of_scope"), name)
        context = body.get("context")
        if context is not None and not (isinstance(context, str) and _NAME.match(context)):
            self.error("'context:' must be a lower_snake_case name", _line(body, "context"), name)
        question = body.get("question")
        if question is not None and (not isinstance(question, str) or not question.strip()
                                     or len(question) > MAX_TEXT_CHARS or context is None):
            self.error("'question:' must be text, in an intent with a 'context:' (its answers)",
                       _line(body, "question"), name)
        does = body.get("does", name if name in BEHAVIOURS else None)
        if does is not None and does not in BEHAVIOURS:
            self.error(f"'does: {does}' is not something the assistant can do (one of: "
                       f"{', '.join(BEHAVIOURS)}); leave it out for an intent that only replies",
                       _line(body, "does"), name)
        if len(self.problems) > count_before:
            return None
        return Intent(
            name=name, topic=str(topic).strip(), examples=tuple(examples),
            replies=tuple(replies), prompts=tuple(prompts),
            keywords=tuple(k.lower() for k in keywords), safety=bool(safety),
            context=context, out_of_scope=bool(out_of_scope), not_safety=tuple(not_safety),
            question=" ".join(question.split()) if isinstance(question, str) else None,
            danger_words=tuple(w.lower() for w in danger_words), does=does,
            location=Location(self.file, line, name),
        )

    def check_examples(self, body: dict[str, Any], name: str, key: str = "examples",
                       required: bool = True) -> list[Example]:
        raw = body.get(key)
        line = _line(body, key)
        if raw is None and not required:
            return []
        if not isinstance(raw, list) or not raw:
            self.error(f"needs '{key}:' with at least one example", line or body_line(body),
                       name)
            return []
        if self.too_many(raw, f"'{key}:' entries", line, name):
            return []
        result = []
        for index, template in enumerate(raw):
            where = _line(raw, index)
            if not isinstance(template, str):
                self.error(f"example {index + 1} is not text", where, name)
                continue
            try:
                tree = templates.parse(template)
            except TemplateError as exc:
                self.error(str(exc), where, name)
                continue
            sentences = templates.count(tree)
            if sentences > MAX_EXPANSIONS:
                self.error(f'example "{shorten(template)}" expands to {amount(sentences)} '
                           "sentences (the "
                           f"limit is {MAX_EXPANSIONS}); split it into smaller examples",
                           where, name)
                continue
            if not self.within_budget(sentences, where, name):
                continue
            result.append(Example(template, tree, where))
        return result

    def strings(self, body: dict[str, Any], key: str, name: str, required: bool) -> list[str]:
        raw = body.get(key)
        line = _line(body, key)
        if raw is None:
            if required:
                self.error(f"needs '{key}:' with at least one entry", body_line(body), name)
            return []
        if not isinstance(raw, list) or (required and not raw):
            self.error(f"'{key}:' must be a list of text", line, name)
            return []
        if self.too_many(raw, f"'{key}:' entries", line, name):
            return []
        result = []
        for index, item in enumerate(raw):
            if not isinstance(item, str) or not item.strip():
                self.error(f"{key} entry {index + 1} is empty or not text", _line(raw, index),
                           name)
            elif len(item) > MAX_TEXT_CHARS:
                self.error(f"{key} entry {index + 1} is too long ({len(item)} characters; the "
                           f"limit is {MAX_TEXT_CHARS}): shorten it", _line(raw, index), name)
            else:
                result.append(" ".join(item.split()))
        return result

    def check_reply_slots(
        self, reply: str, examples: list[Example], name: str, line: int | None,
        fields: Sequence[str] = (),
    ) -> None:
        names = {s.name for e in examples for s in templates.slots_of(e.tree)} | set(fields)
        for slot in _REPLY_SLOT.findall(reply):
            if slot not in names:
                self.error(
                    f"reply uses {{{slot}}}, but no example of this intent has that slot",
                    line, name,
                )


def _merge_intent(intents: dict[str, Intent], intent: Intent) -> IntentFileError | None:
    """Add ``intent`` to ``intents``: it replaces an earlier intent of its name, except the
    safety intents and the check-in, which nothing replaces or weakens; a later safety intent
    adds its examples and keywords to the first one."""
    previous = intents.get(intent.name)
    if previous is not None and previous.protected:
        return IntentFileError(
            f"'{intent.name}' is a built-in safety intent and cannot be replaced; to add "
            "safety examples, name your intent differently and give it 'safety: true'",
            intent.location,
        )
    base = next((i for i in intents.values() if i.safety), None)
    if intent.safety and base is not None:
        if intent.not_safety:
            return IntentFileError(
                "'not_safety:' cannot be added to the built-in safety intent (it would "
                "silence safety replies); a pack can only add safety examples",
                intent.location,
            )
        intents[base.name] = dataclasses.replace(
            base, examples=base.examples + intent.examples,
            keywords=base.keywords + tuple(k for k in intent.keywords if k not in base.keywords),
            danger_words=base.danger_words + intent.danger_words,
        )
        return None
    intents.pop(intent.name, None)
    intents[intent.name] = intent
    return None


def body_line(body: Any) -> int | None:
    return getattr(body, "line", None)


def _check_references(intent: Intent, lists: dict[str, SlotList]) -> list[IntentFileError]:
    problems = []
    known = set(lists) | set(BUILTIN_LISTS)
    for example in intent.examples:
        for slot in templates.slots_of(example.tree):
            if slot.list_name not in known:
                problems.append(IntentFileError(
                    f"example \"{example.template}\" uses list '{slot.list_name}', which no file "
                    f"of the pack defines (known lists: {', '.join(sorted(known))}); "
                    "define it under 'lists:' or fix the name",
                    Location(intent.location.file, example.line, intent.name),
                ))
    return problems


def _check_size(intents: dict[str, Intent], lists: dict[str, SlotList]) -> list[IntentFileError]:
    """The pack's sentences (examples, safety exceptions, list values) against
    :data:`MAX_PACK_SENTENCES`: each file is within it, but several may not be."""
    total = sum(templates.count(value.spoken) for slot_list in lists.values()
                for value in slot_list.values)
    for intent in intents.values():
        total += sum(templates.count(e.tree) for e in (*intent.examples, *intent.not_safety))
        if total > MAX_PACK_SENTENCES:
            return [IntentFileError(
                f"the pack expands to more than {MAX_PACK_SENTENCES} sentences with this intent "
                "(the limit for a pack): load fewer intent directories, or use fewer "
                "alternatives", intent.location)]
    return []


def render_reply(reply: str, slots: dict[str, str]) -> str:
    """Fill ``{slot}`` placeholders of a reply with slot values."""
    return _REPLY_SLOT.sub(lambda m: slots.get(m.group(1), m.group(0)), reply)
