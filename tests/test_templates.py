"""Template syntax: expansion, and the exact error for each kind of mistake."""

from __future__ import annotations

import pytest

from assistant.base.errors import TemplateError
from assistant.pack import templates


def sentences(template: str) -> list[str]:
    return [
        " ".join(t if isinstance(t, str) else "{" + f"{t.name}:{t.list_name}" + "}" for t in e)
        for e in templates.expand(templates.parse(template))
    ]


@pytest.mark.parametrize(("template", "expected"), [
    ("hello", ["hello"]),
    ("(hi|hello) there", ["hi there", "hello there"]),
    ("tell me [a bit] more", ["tell me more", "tell me a bit more"]),
    ("[please|now] stop", ["stop", "please stop", "now stop"]),
    ("how (do|can) (i|we) [(really|truly)] start",
     ["how do i start", "how do i really start", "how do i truly start",
      "how do we start", "how do we really start", "how do we truly start",
      "how can i start", "how can i really start", "how can i truly start",
      "how can we start", "how can we really start", "how can we truly start"]),
    ("remind me at {time}", ["remind me at {time:time}"]),
    ("from {start:time} to {end:time}", ["from {start:time} to {end:time}"]),
    ("a|b c", ["a", "b c"]),
    ("((a|b)|c)", ["a", "b", "c"]),
])
def test_expansion(template: str, expected: list[str]) -> None:
    assert sentences(template) == expected
    assert templates.count(templates.parse(template)) == len(expected)


@pytest.mark.parametrize(("template", "message"), [
    ("how do i (apologise", "unclosed '(' at column 10 in example \"how do i (apologise\""),
    ("tell me [more", "unclosed '[' at column 9 in example \"tell me [more\""),
    ("a)b", "unexpected ')' in example \"a)b\""),
    ("(a|)", "empty alternative (use [words] for optional words) in example \"(a|)\""),
    ("[]", "empty '[]' in example \"[]\""),
    ("(a]", "'(' at column 1 closed by ']' in example \"(a]\""),
    ("x {time", "unclosed '{' at column 3 in example \"x {time\""),
    ("a } b", "unexpected '}' in example \"a } b\""),
    ("{Bad}", "bad slot '{Bad}' (write {list} or {slot:list} with lower-case letters, digits "
              "and _) in example \"{Bad}\""),
    ("   ", "empty example in example \"   \""),
])
def test_parse_errors(template: str, message: str) -> None:
    with pytest.raises(TemplateError) as info:
        templates.parse(template)
    assert str(info.value) == message


def test_expansion_limit() -> None:
    tree = templates.parse(" ".join(["(a|b|c|d|e)"] * 6))
    with pytest.raises(ValueError, match="expands to 15625 sentences"):
        templates.expand(tree)
