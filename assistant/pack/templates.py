"""Example templates: ``(a|b)`` alternatives, ``[optional]`` words, ``{list}`` and
``{slot:list}`` slots.

A template is parsed once into a small tree (:class:`Sequence`, :class:`Alternative`,
:class:`Word`, :class:`SlotRef`) that can be expanded into sentences for the matcher or turned
into a grammar for a recogniser without expanding it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product

from ..base.errors import TemplateError, amount
from ..base.limits import MAX_EXAMPLE_CHARS, MAX_EXAMPLE_WORDS, MAX_EXPANSIONS, MAX_GROUP_DEPTH

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Word:
    text: str


@dataclass(frozen=True)
class SlotRef:
    """``{name:list}``: slot ``name`` takes its value from list ``list_name``."""

    name: str
    list_name: str


@dataclass(frozen=True)
class Sequence:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Alternative:
    options: tuple[Sequence, ...]
    optional: bool = False


Node = Word | SlotRef | Sequence | Alternative
Token = str | SlotRef
"""One token of an expanded sentence: a word, or a slot."""


def parse(template: str) -> Sequence:
    """Parse ``template`` into a tree; raise :class:`TemplateError` with a precise reason,
    also for a template longer, wordier or more deeply nested than :mod:`assistant.base.limits`
    allows."""
    if not template.strip():
        raise TemplateError("empty example", template)
    if len(template) > MAX_EXAMPLE_CHARS:
        raise TemplateError(
            f"too long ({len(template)} characters; the limit is {MAX_EXAMPLE_CHARS})",
            template, "split it into shorter examples")
    parser = _Parser(template)
    tree = parser.parse_alternatives(closer=None)
    return tree if isinstance(tree, Sequence) else Sequence((tree,))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0
        self.words = 0

    def fail(self, message: str, hint: str = "") -> TemplateError:
        return TemplateError(message, self.text, hint)

    def parse_alternatives(self, closer: str | None) -> Node:
        options = [self.parse_sequence()]
        while self.pos < len(self.text) and self.text[self.pos] == "|":
            self.pos += 1
            options.append(self.parse_sequence())
        if closer is None and self.pos < len(self.text):
            raise self.fail(f"unexpected '{self.text[self.pos]}'")
        if len(options) == 1:
            return options[0]
        if any(not option.items for option in options):
            raise self.fail("empty alternative (use [words] for optional words)")
        return Alternative(tuple(options))

    def parse_sequence(self) -> Sequence:
        items: list[Node] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char in "|)]":
                break
            if char.isspace():
                self.pos += 1
            elif char in "([":
                items.append(self.parse_group(char))
            elif char == "{":
                items.append(self.parse_slot())
            elif char == "}":
                raise self.fail("unexpected '}'")
            else:
                items.append(self.parse_word())
        return Sequence(tuple(items))

    def parse_group(self, opener: str) -> Alternative:
        closer = ")" if opener == "(" else "]"
        start = self.pos
        self.pos += 1
        self.depth += 1
        if self.depth > MAX_GROUP_DEPTH:
            raise self.fail(f"groups nested more than {MAX_GROUP_DEPTH} deep at column "
                            f"{start + 1}", "write the alternatives out at fewer levels")
        inner = self.parse_alternatives(closer)
        self.depth -= 1
        if self.pos >= len(self.text):
            raise self.fail(f"unclosed '{opener}' at column {start + 1}")
        if self.text[self.pos] != closer:
            raise self.fail(f"'{opener}' at column {start + 1} closed by '{self.text[self.pos]}'")
        self.pos += 1
        options = inner.options if isinstance(inner, Alternative) else (_as_sequence(inner),)
        if not any(option.items for option in options):
            raise self.fail(f"empty '{opener}{closer}'")
        return Alternative(options, optional=opener == "[")

    def parse_slot(self) -> SlotRef:
        end = self.text.find("}", self.pos)
        if end < 0:
            raise self.fail(f"unclosed '{{' at column {self.pos + 1}")
        body = self.text[self.pos + 1 : end].strip()
        self.pos = end + 1
        name, _, list_name = body.partition(":")
        name, list_name = name.strip(), (list_name.strip() or name.strip())
        for part in (name, list_name):
            if not _NAME.match(part):
                raise self.fail(
                    f"bad slot '{{{body}}}' (write {{list}} or {{slot:list}} with "
                    "lower-case letters, digits and _)"
                )
        return SlotRef(name, list_name)

    def parse_word(self) -> Word:
        self.words += 1
        if self.words > MAX_EXAMPLE_WORDS:
            raise self.fail(f"more than {MAX_EXAMPLE_WORDS} words",
                            "an example is one short request: split it into shorter examples")
        start = self.pos
        while self.pos < len(self.text) and not (
            self.text[self.pos].isspace() or self.text[self.pos] in "()[]{}|"
        ):
            self.pos += 1
        return Word(self.text[start : self.pos])


def _as_sequence(node: Node) -> Sequence:
    return node if isinstance(node, Sequence) else Sequence((node,))


def expand(tree: Node, limit: int = MAX_EXPANSIONS) -> list[tuple[Token, ...]]:
    """All token sequences ``tree`` stands for; :class:`ValueError` past ``limit``, raised
    after counting them (:func:`count`), before building any."""
    total = count(tree)
    if total > limit:
        raise ValueError(f"expands to {amount(total)} sentences (the limit is {limit})")
    return list(_expand(tree))


def _expand(node: Node) -> Iterator[tuple[Token, ...]]:
    if isinstance(node, Word):
        yield (node.text,)
    elif isinstance(node, SlotRef):
        yield (node,)
    elif isinstance(node, Sequence):
        parts = [list(_expand(item)) for item in node.items]
        for combo in product(*parts):
            yield tuple(token for part in combo for token in part)
    else:
        if node.optional:
            yield ()
        for option in node.options:
            yield from _expand(option)


def count(tree: Node) -> int:
    """How many sentences ``tree`` expands to, without expanding it."""
    if isinstance(tree, Word | SlotRef):
        return 1
    if isinstance(tree, Sequence):
        total = 1
        for item in tree.items:
            total *= count(item)
        return total
    return sum(count(option) for option in tree.options) + (1 if tree.optional else 0)


def slots_of(tree: Node) -> list[SlotRef]:
    """Every slot reference in ``tree``, in order of appearance."""
    if isinstance(tree, SlotRef):
        return [tree]
    if isinstance(tree, Word):
        return []
    children = tree.items if isinstance(tree, Sequence) else tree.options
    return [slot for child in children for slot in slots_of(child)]


def words_of(tree: Node) -> set[str]:
    """Every literal word in ``tree``."""
    if isinstance(tree, Word):
        return {tree.text}
    if isinstance(tree, SlotRef):
        return set()
    children = tree.items if isinstance(tree, Sequence) else tree.options
    return {word for child in children for word in words_of(child)}
