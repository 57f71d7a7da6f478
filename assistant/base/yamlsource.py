"""YAML loading that remembers line numbers, so every intent-file error can name its line.

``load(text)`` returns plain ``dict`` / ``list`` / scalar values; mappings come back as
:class:`Located` (a ``dict`` with ``.line`` and ``.key_lines``), sequences as :class:`LocatedList`
(with ``.line`` and ``.item_lines``). Duplicate keys are errors, not silently overwritten.

Aliases (``*name``) are refused, and nesting is bounded
(:data:`~assistant.base.limits.MAX_YAML_DEPTH`), before anything is built: a "billion laughs"
file is refused at once, not expanded.
"""

from __future__ import annotations

from typing import Any

import yaml

from .limits import MAX_FILE_BYTES, MAX_YAML_DEPTH

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser when PyYAML has it (a 1 MB file in 1 s rather than 6), else PyYAML's own."""


class Located(dict[str, Any]):
    """A mapping from a YAML file, with the 1-based line of itself and of each key."""

    line: int | None = None
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int | None:
        return getattr(self, "key_lines", {}).get(key, self.line)


class LocatedList(list[Any]):
    """A sequence from a YAML file, with the 1-based line of itself and of each item."""

    line: int | None = None
    item_lines: list[int]

    def line_of(self, index: int) -> int | None:
        lines = getattr(self, "item_lines", [])
        return lines[index] if index < len(lines) else self.line


class YamlError(Exception):
    """A YAML document that does not parse; ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def load(text: str) -> Any:
    """Parse one YAML document, keeping line numbers; raise :class:`YamlError`, also for
    aliases, nesting deeper than :data:`~assistant.base.limits.MAX_YAML_DEPTH` and text longer than
    :data:`~assistant.base.limits.MAX_FILE_BYTES`."""
    if len(text) > MAX_FILE_BYTES:
        raise YamlError(f"file too large ({len(text)} characters; the limit is "
                        f"{MAX_FILE_BYTES}): split it into several files", None)
    try:
        _check_events(text)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{exc.context}, {problem}"
        if "nesting depth" in problem:  # libyaml's own bound, met before ours
            problem = f"nested more than {MAX_YAML_DEPTH} levels deep: flatten the structure"
            raise YamlError(problem, mark.line + 1 if mark else None) from None
        raise YamlError(f"YAML syntax error: {problem}", mark.line + 1 if mark else None) from exc
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        raise YamlError(f"{exc.reason} (character #x{exc.character:04x}): "
                        "remove it", line) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"YAML error: {' '.join(str(exc).split())}", None) from None
    except UnicodeEncodeError:
        raise YamlError("the text holds characters that are not valid Unicode (a lone "
                        "surrogate): save the file as UTF-8", None) from None
    try:
        return None if node is None else _convert(node)
    finally:
        _scalars.constructed_objects.clear()


def _line_of(event: yaml.Event) -> int | None:
    return event.start_mark.line + 1 if event.start_mark is not None else None


def _check_events(text: str) -> None:
    """Refuse aliases and deep nesting from the parser's events, before any node is built."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            raise YamlError(
                f"YAML alias '*{event.anchor}' is not allowed: write the value out in full",
                _line_of(event))
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise YamlError(f"nested more than {MAX_YAML_DEPTH} levels deep: flatten the "
                                "structure", _line_of(event))
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


_scalars = yaml.SafeLoader("")


def _convert(node: yaml.Node) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result = Located()
        result.line = line
        result.key_lines = {}
        for key_node, value_node in node.value:
            key = _convert(key_node)
            if not isinstance(key, str | int | float | bool) or key is None:
                raise YamlError("mapping keys must be plain words", key_node.start_mark.line + 1)
            key = str(key)
            if key in result:
                raise YamlError(f"duplicate key '{key}'", key_node.start_mark.line + 1)
            result[key] = _convert(value_node)
            result.key_lines[key] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        items = LocatedList(_convert(item) for item in node.value)
        items.line = line
        items.item_lines = [item.start_mark.line + 1 for item in node.value]
        return items
    try:
        return _scalars.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError, OverflowError, AttributeError, TypeError) as exc:
        reason = exc.problem if isinstance(exc, yaml.MarkedYAMLError) else str(exc)
        raise YamlError(f"bad value ({reason}): quote it to keep it as text", line) from None
