"""Loading intent packs: merging, overriding, and an exact, located message for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.base.errors import IntentFileError
from assistant.pack.intents import IntentPack, PackError, shipped_dir

GOOD = """\
language: en
lists:
  day_part:
    values:
      - morning
      - in: "(tonight|at night)"
        out: evening
intents:
  - name: greet
    topic: saying hello
    examples: ["(hi|hello) [there]"]
    replies: ["Hello."]
  - name: remind
    examples: ["remind me in the {when:day_part} at {time}"]
    replies: ["At {time}."]
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_pack_loads() -> None:
    pack = IntentPack.from_yaml(GOOD, "good.yaml")
    assert list(pack.intents) == ["greet", "remind"]
    assert pack.intents["remind"].slot_lists() == {"when": "day_part", "time": "time"}
    assert pack.lists["day_part"].phrases() == [
        ("morning", "morning"), ("tonight", "evening"), ("at night", "evening"),
    ]
    assert pack.intents["greet"].topic == "saying hello"
    assert pack.intents["remind"].topic == "remind"


def test_later_directory_overrides_by_name(tmp_path: Path) -> None:
    write(tmp_path / "a", "a.yaml", GOOD)
    write(tmp_path / "b", "b.yaml", """\
language: en
intents:
  - name: greet
    examples: ["good day"]
    replies: ["Good day to you."]
  - name: extra
    examples: ["something new"]
    replies: ["New."]
""")
    pack = IntentPack.from_dirs([tmp_path / "a", tmp_path / "b"])
    assert pack.intents["greet"].replies == ("Good day to you.",)
    assert set(pack.intents) == {"greet", "remind", "extra"}


def test_language_subdirectory_is_used(tmp_path: Path) -> None:
    write(tmp_path / "pack" / "en", "a.yaml", GOOD)
    pack = IntentPack.from_dirs([tmp_path / "pack"], "en")
    assert "greet" in pack.intents


def test_shipped_pack_loads() -> None:
    pack = IntentPack.from_dirs([shipped_dir()], "en")
    assert len(pack.intents) >= 33


INTENT = "intents:\n  - name: x\n"


@pytest.mark.parametrize(("text", "message"), [
    ("language: en\nintents:\n  - name: x\n    examples: [\"how do i (apologise\"]\n"
     "    replies: [ok]\n",
     "f.yaml:4: intent 'x': unclosed '(' at column 10 in example \"how do i (apologise\""),
    ("language: en\nintents:\n  - name: x\n    exmaples: [hi]\n    replies: [ok]\n",
     "f.yaml:4: intent 'x': unknown key 'exmaples' (expected: context, danger_words, does, "
     "examples, keywords, name, not_safety, out_of_scope, prompts, question, replies, "
     "safety, topic)"),
    ("language: en\nintents:\n  - name: x\n    examples: [hi]\n    replies: []\n",
     "f.yaml:5: intent 'x': 'replies:' must be a list of text"),
    ("language: en\nintents:\n  - name: x\n    examples: [hi]\n",
     "f.yaml:3: intent 'x': needs 'replies:' with at least one entry"),
    ("language: en\nintents:\n  - name: x\n    examples: [hi]\n    replies: ['  ']\n",
     "f.yaml:5: intent 'x': replies entry 1 is empty or not text"),
    ("language: en\nintents:\n  - name: x\n    replies: [ok]\n",
     "f.yaml:3: intent 'x': needs 'examples:' with at least one example"),
    ("language: en\nintents:\n  - name: Bad Name\n    examples: [hi]\n    replies: [ok]\n",
     "f.yaml:3: intent needs 'name:' in lower_snake_case"),
    ("language: en\nintents:\n  - name: x\n    examples: [hi]\n    replies: [ok]\n"
     "  - name: x\n    examples: [hey]\n    replies: [ok]\n",
     "f.yaml:6: intent 'x': duplicate intent name (first defined at line 3)"),
    ("language: en\nintents:\n  - name: x\n    examples: [\"at {tme}\"]\n    replies: [ok]\n",
     "f.yaml:4: intent 'x': example \"at {tme}\" uses list 'tme', which no file of the pack "
     "defines (known lists: number, time); define it under 'lists:' or fix the name"),
    ("language: en\nintents:\n  - name: x\n    examples: [hi]\n    replies: [\"at {time}\"]\n",
     "f.yaml:5: intent 'x': reply uses {time}, but no example of this intent has that slot"),
    ("language: en\nintents:\n  - name: x\n    examples: [hi]\n    replies: [ok]\n"
     "    safety: maybe\n",
     "f.yaml:6: intent 'x': 'safety:' must be true or false"),
    ("language: en\nintents: [\n",
     # libyaml's wording (the loader uses it when PyYAML has it, as in the wheels)
     "f.yaml:3: YAML syntax error: while parsing a flow node, did not find expected node "
     "content"),
    ("language: en\nintents:\n  - name: x\n    examples: [hi]\n    examples: [ho]\n"
     "    replies: [ok]\n",
     "f.yaml:5: duplicate key 'examples'"),
    ("intents:\n  - name: x\n    examples: [hi]\n    replies: [ok]\n",
     "f.yaml:1: missing 'language:' (for example 'language: en')"),
    ("language: en\nlists:\n  time:\n    values: [noon]\nintents:\n  - name: x\n"
     "    examples: [hi]\n    replies: [ok]\n",
     "f.yaml:3: list 'time' is built in; choose another name"),
    ("language: en\nlists:\n  when:\n    values: [{in: \"(a|\", out: b}]\nintents:\n"
     "  - name: x\n    examples: [hi]\n    replies: [ok]\n",
     "f.yaml:4: list 'when': empty alternative (use [words] for optional words) in example "
     "\"(a|\""),
    ("language: en\nintents:\n  - name: x\n    examples: [hi]\n    replies: [ok]\n"
     "    not_safety: [\"it kills me\"]\n",
     "f.yaml:6: intent 'x': 'not_safety:' is only for safety intents (add 'safety: true')"),
    ("", "f.yaml:1: the file is empty; it needs 'language:' and 'intents:'"),
    ("- just\n- a list\n", "f.yaml:1: the file must be a mapping with 'language:' and "
                           "'intents:'"),
    ("language: en\ncolour: blue\nintents:\n  - name: x\n    examples: [hi]\n    replies: [ok]\n",
     "f.yaml:2: unknown key 'colour' (expected: language, lists, intents)"),
])
def test_errors_name_file_line_intent(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "f.yaml", text)
    with pytest.raises(IntentFileError) as info:
        IntentPack.from_dirs([tmp_path])
    problems = info.value.problems if isinstance(info.value, PackError) else [info.value]
    assert str(problems[0]).replace(str(tmp_path) + "/", "") == message


def test_all_problems_are_collected_and_summarised(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "language: en\nintents:\n  - name: x\n    examples: [\"(a\"]\n"
                              "    replies: []\n")
    with pytest.raises(PackError) as info:
        IntentPack.from_dirs([tmp_path])
    assert len(info.value.problems) == 2
    assert str(info.value).endswith(
        "(and 1 more problem: run 'trust-assistant intents check')")


def test_duplicate_names_across_files_of_one_directory(tmp_path: Path) -> None:
    body = "language: en\nintents:\n  - name: x\n    examples: [hi]\n    replies: [ok]\n"
    write(tmp_path, "a.yaml", body)
    write(tmp_path, "b.yaml", body)
    with pytest.raises(PackError, match=r"b.yaml:3: intent 'x': duplicate intent name "
                                        r"\(also at .*a.yaml:3\)"):
        IntentPack.from_dirs([tmp_path])


@pytest.mark.parametrize(("setup", "message"), [
    ("missing", "intent directory {d} does not exist"),
    ("empty", "no .yaml files in intent directory {d}"),
    ("file", "{d} is not a directory (--intents takes a directory)"),
])
def test_directory_errors(tmp_path: Path, setup: str, message: str) -> None:
    target = tmp_path / "pack"
    if setup == "empty":
        target.mkdir()
    elif setup == "file":
        target.write_text("x")
    with pytest.raises(IntentFileError) as info:
        IntentPack.from_dirs([target])
    assert str(info.value) == message.format(d=target)


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_bytes(b"language: en\n\xff\xfe\x00junk")
    with pytest.raises(IntentFileError, match=r"bad.yaml: not UTF-8 text; save the file as UTF-8"):
        IntentPack.from_dirs([tmp_path])


def test_mixed_languages_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", GOOD.replace("language: en", "language: de").replace(
        "greet", "hallo").replace("remind", "erinnern"))
    with pytest.raises(IntentFileError, match="language 'de' differs from the pack's 'en'"):
        IntentPack.from_dirs([tmp_path])
