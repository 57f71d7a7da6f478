"""YAML loading that remembers line numbers, so every intent-file error can name its line.

``load(text)`` returns plain ``dict`` / ``list`` / scalar values; mappings come back as
:class:`Located` (a ``dict`` with ``.line`` and ``.key_lines``), sequences as :class:`LocatedList`
(with ``.line`` and ``.item_lines``). Duplicate keys are errors, not silently overwritten.
"""

from __future__ import annotations

from typing import Any

import yaml


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
    """Parse one YAML document, keeping line numbers; raise :class:`YamlError`."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{exc.context}, {problem}"
        raise YamlError(f"YAML syntax error: {problem}", mark.line + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise YamlError(f"YAML error: {exc}", None) from exc
    return None if node is None else _convert(node)


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
    except yaml.YAMLError as exc:
        raise YamlError(f"bad value: {exc}", line) from exc
