"""The command-line contract (design section 6) through a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.speech.tts import piper

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args], input=stdin, capture_output=True,
        timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})},
    )


def one_line_error(result: subprocess.CompletedProcess[bytes]) -> str:
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1, result.stderr.decode()
    assert lines[0].startswith("trust-assistant: error: ")
    assert b"Traceback" not in result.stderr
    return lines[0]


def test_ask_json_contract() -> None:
    result = run("ask", "--json", "how do I apologise properly")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) >= {"text", "intent", "confidence", "slots", "reply"}
    assert answer["text"] == "how do I apologise properly"
    assert answer["intent"] == "sincere_apology"
    assert 0 <= answer["confidence"] <= 1
    assert answer["slots"] == {}
    assert 5 <= len(answer["reply"].split()) <= 45


def test_ask_plain_prints_the_reply() -> None:
    result = run("ask", "I'm the one who was hurt, what's my part?")
    assert result.returncode == 0
    assert result.stdout.decode().strip()
    assert not result.stdout.decode().startswith("{")


def test_ask_json_flag_before_the_command_and_slots() -> None:
    result = run("--json", "ask", "remind me to reflect every evening at nine")
    answer = json.loads(result.stdout)
    assert answer["intent"] == "reflection_schedule"
    assert answer["slots"] == {"days": "daily", "time": "21:00"}


def test_ask_sets_the_reminder_for_later_runs() -> None:
    """Typed requests reach the reminder service too: the schedule is kept between runs."""
    first = json.loads(run("ask", "--json", "remind me to reflect every evening at nine").stdout)
    assert "9 pm" in first["reply"]
    later = run("ask", "when is my reflection")
    assert "9 pm" in later.stdout.decode(), later.stdout


def test_ask_stdin_one_json_line_per_utterance_and_follow_ups() -> None:
    lines = ["where do I start", "tell me more", "", "say that again", "what's the weather",
             "bye"]
    result = run("-v", "ask", "-", "--json", stdin="\n".join(lines).encode())
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [a["intent"] for a in answers] == [
        "where_to_start", "tell_me_more", "repeat", None, "goodbye"]
    assert answers[2]["reply"] == answers[1]["reply"]
    # the pack and matcher are built once for the whole stream
    assert result.stderr.decode().count("loaded ") == 1


def test_ask_stdin_bad_lines_are_reported_and_the_rest_goes_on() -> None:
    stdin = b"how do i start\n\xff\xfe\x00\x01junk\nbin\x00ary\n" + b"a" * 5000 + b"\nthanks\n"
    result = run("ask", "-", "--json", stdin=stdin)
    assert result.returncode == 2
    answers = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [a["intent"] for a in answers] == ["where_to_start", "thanks"]
    errors = result.stderr.decode().strip().splitlines()
    assert errors == [
        "trust-assistant: error: line 2: input is not UTF-8 text",
        "trust-assistant: error: line 3: input is not text (binary data)",
        "trust-assistant: error: line 4: utterance too long (5000 characters; the limit is "
        "1000): ask one thing at a time",
    ]


@pytest.mark.parametrize(("args", "message"), [
    (["ask", ""], "empty utterance: say or type something"),
    (["ask", "x" * 10_000], "utterance too long (10000 characters; the limit is 1000): "
                            "ask one thing at a time"),
    (["ask", "--bogus"], "unrecognized arguments: --bogus (see 'trust-assistant --help')"),
    (["listen", "--turns", "0"], "argument --turns: '0' must be more than 0"),
    (["--engine", "deepspeech", "transcribe", "x.wav"], "argument --engine: invalid choice: "
     "'deepspeech' (choose from 'auto', 'pocketsphinx', 'vosk', 'whisper')"),
    (["--config", "/nonexistent/config.yaml", "ask", "hi"],
     "config file /nonexistent/config.yaml does not exist"),
    (["--intents", "/nonexistent/pack", "ask", "hi"],
     "intent directory /nonexistent/pack does not exist"),
])
def test_bad_usage_one_line_exit_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert message in one_line_error(result)


def test_non_english_gets_a_polite_no_intent() -> None:
    result = run("ask", "--json", "¿cómo puedo reconstruir la confianza con mi pareja?")
    assert result.returncode == 0
    answer = json.loads(result.stdout)
    assert answer["intent"] is None
    assert answer["reply"].startswith("Sorry, I can't help with that.")


def test_broken_yaml_refuses_the_pack_with_its_location(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "language: en\nintents:\n  - name: x\n    examples: [\"(oops\"]\n    replies: [hi]\n")
    result = run("--intents", str(tmp_path), "ask", "hello")
    assert result.returncode == 2
    assert one_line_error(result) == (
        f"trust-assistant: error: {tmp_path}/mine.yaml:4: intent 'x': unclosed '(' at "
        "column 1 in example \"(oops\"")


def test_user_pack_overrides_and_adds(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "language: en\nintents:\n"
        "  - name: greeting\n    examples: [\"(hello|hi) coach\"]\n"
        "    replies: [\"Hi there, friend.\"]\n"
        "  - name: gratitude_list\n    examples: [\"what (am i|should i be) grateful for\"]\n"
        "    replies: [\"Name three small things that went well today.\"]\n")
    assert json.loads(run("--intents", str(tmp_path), "ask", "--json", "hello coach").stdout)[
        "reply"] == "Hi there, friend."
    answer = json.loads(run("--intents", str(tmp_path), "ask", "--json",
                            "what should i be grateful for").stdout)
    assert answer["intent"] == "gratitude_list"


def test_no_default_intents_runs_a_pack_alone() -> None:
    coffee = str(ROOT / "tests/data/coffee")
    result = run("--no-default-intents", "--intents", coffee, "ask", "--json",
                 "can i get a large oat milk latte please")
    answer = json.loads(result.stdout)
    assert answer["intent"] == "order_drink"
    assert answer["slots"]["size"] == "large" and answer["slots"]["milk"] == "oat"
    trust = json.loads(run("--no-default-intents", "--intents", coffee, "ask", "--json",
                           "how do i apologise").stdout)
    assert trust["intent"] != "sincere_apology"


def test_intents_list_and_check() -> None:
    listed = run("intents", "list", "--json")
    rows = [json.loads(line) for line in listed.stdout.decode().splitlines()]
    names = {row["name"] for row in rows}
    assert {"sincere_apology", "safety", "reflection_schedule", "help"} <= names
    checked = run("intents", "check")
    assert checked.returncode == 0, checked.stdout.decode()
    lines = checked.stdout.decode().splitlines()
    assert not [line for line in lines if line.startswith(("warning:", "error:"))]
    assert lines[-1].endswith(": 0 warnings")


def test_intents_check_lists_every_problem(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "language: en\nintents:\n  - name: x\n    examples: [\"(a\"]\n    replies: []\n")
    result = run("--no-default-intents", "--intents", str(tmp_path), "intents", "check")
    assert result.returncode == 2
    lines = result.stdout.decode().splitlines()
    assert lines == [
        f"error: {tmp_path}/a.yaml:4: intent 'x': unclosed '(' at column 1 in example \"(a\"",
        f"error: {tmp_path}/a.yaml:5: intent 'x': 'replies:' must be a list of text",
    ]


def test_intents_check_reports_collisions(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "language: en\nintents:\n"
        "  - name: one\n    examples: [\"tell me about the weather\"]\n    replies: [a]\n"
        "  - name: two\n    examples: [\"tell me about the weather\", \"rain or shine\"]\n"
        "    replies: [b]\n")
    result = run("--no-default-intents", "--intents", str(tmp_path), "intents", "check")
    assert result.returncode == 0
    first = result.stdout.decode().splitlines()[0]
    assert first.startswith(
        f"warning: {tmp_path}/a.yaml:7: intent 'two': example \"tell me about the weather\" "
        "is matched to intent 'one' (")
    assert first.endswith("): make the two intents' examples more distinct")


def test_version_and_module_entry_point() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.decode().startswith("trust-assistant ")


@pytest.mark.skipif(not piper.available(), reason="Piper is not installed")
def test_say_prepare_keeps_every_reply_once(tmp_path: Path) -> None:
    """`say --prepare` says every sentence the pack and the assistant can say once and keeps
    it; a second run has nothing left to make."""
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "mine.yaml").write_text(
        "language: en\nintents:\n  - name: hello\n    examples: [\"hello there\"]\n"
        "    replies: [\"Hello. It is good to hear from you.\"]\n")
    env = {"TRUST_ASSISTANT_CACHE_DIR": str(tmp_path / "cache")}
    first = run("--no-default-intents", "--intents", str(pack), "say", "--prepare", env=env,
                timeout=600)
    assert first.returncode == 0, first.stderr
    made = int(first.stderr.decode().split("sentences")[0].split()[-1])
    kept = list((tmp_path / "cache" / "voice").glob("*.flac"))
    assert made > 10 and len(kept) == made
    again = run("--no-default-intents", "--intents", str(pack), "say", "--prepare", env=env)
    assert again.stderr.decode().split()[0] == "0", again.stderr


def test_listen_prepare_builds_the_recogniser_and_exits() -> None:
    result = run("listen", "--prepare")
    assert result.returncode == 0, result.stderr
    assert "ready to listen" in result.stderr.decode()
