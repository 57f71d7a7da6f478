"""The private journal with a real SQLite file: permissions, export round trip, deletion that
leaves no text on disk, a writer killed with SIGKILL, and the ``journal`` command line."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from assistant.base.config import config_dir, data_dir
from assistant.base.errors import JournalError
from assistant.memory.journal import Journal, journal_file, parse_json_export
from assistant.memory.state import StateStore

ROOT = Path(__file__).resolve().parent.parent
ZONE = timezone(timedelta(hours=1))
SECRET = "I-told-a-lie-about-the-weekend-7f3a"
"""An answer whose bytes must not survive deletion."""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    """A permissive umask, so the journal's own 0600/0700 are what is tested."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def journal() -> Journal:
    return Journal()


def add_three(journal: Journal) -> None:
    journal.add("What did you notice today?", "That I listen better when I slow down.",
                topic="patience", when=datetime(2026, 5, 9, 21, 3, tzinfo=ZONE))
    journal.add("What would an apology sound like?", SECRET,
                when=datetime(2026, 5, 10, 21, 1, tzinfo=ZONE))
    journal.add("How did you look after yourself?", "Ein Spaziergang — und Tee.\nZwei Zeilen.",
                topic="self_care", when=datetime(2026, 5, 11, 21, 0, tzinfo=ZONE))


# ------------------------------------------------------------------------------- the file

def test_files_are_private_and_in_wal_mode(journal: Journal, umask_022: None) -> None:
    with journal:
        add_three(journal)
        names = {p.name for p in journal.files()}
        assert names == {"journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm"}
        for path in journal.files():
            assert mode(path) == 0o600, path
    assert journal.path == data_dir() / "journal.sqlite3" == journal_file()
    assert mode(journal.path.parent) == 0o700
    conn = sqlite3.connect(journal.path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_a_wider_mode_is_tightened(journal: Journal) -> None:
    journal.add("q", "a")
    journal.path.chmod(0o644)
    journal.add("q", "b")
    assert mode(journal.path) == 0o600


def test_nothing_is_created_by_reading(journal: Journal) -> None:
    assert journal.entries() == [] and journal.last() is None and journal.count() == 0
    assert journal.get(1) is None and not journal.delete(1)
    assert not journal.path.parent.exists()


def test_entries_keep_date_prompt_answer_topic(journal: Journal) -> None:
    add_three(journal)
    entries = journal.entries()
    assert [e.id for e in entries] == [1, 2, 3]
    assert entries[0].created == "2026-05-09T21:03:00+01:00"
    assert entries[0].topic == "patience" and entries[1].topic is None
    last = journal.last()
    assert last is not None and last.answer.endswith("Zwei Zeilen.")
    assert journal.get(2) == entries[1]


def test_default_date_is_local_time_with_offset(journal: Journal) -> None:
    entry = journal.add("q", "a")
    created = datetime.fromisoformat(entry.created)
    assert created.utcoffset() is not None
    assert abs(created - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_naive_date_is_refused(journal: Journal) -> None:
    with pytest.raises(JournalError, match="UTC offset"):
        journal.add("q", "a", when=datetime(2026, 5, 9, 21, 0))


def test_damaged_file_is_a_one_line_error_and_delete_all_removes_it(journal: Journal) -> None:
    journal.path.parent.mkdir(parents=True)
    journal.path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(JournalError) as caught:
        journal.entries()
    message = caught.value.format_message()
    assert str(journal.path) in message and "journal delete --all" in message
    journal.delete_all()
    assert journal.files() == []


# -------------------------------------------------------------------------- export/import

def test_json_export_round_trip(journal: Journal, tmp_path: Path) -> None:
    add_three(journal)
    exported = journal.export("json")
    copy = Journal(tmp_path / "copy" / "journal.sqlite3")
    copy.import_json(exported)
    assert copy.entries() == journal.entries()
    assert copy.export("json") == exported


def test_import_keeps_free_ids_and_renumbers_taken_ones(journal: Journal) -> None:
    add_three(journal)
    exported = journal.export("json")
    added = journal.import_json(exported)
    assert [e.id for e in added] == [4, 5, 6]
    assert [e.answer for e in added] == [e.answer for e in journal.entries()[:3]]


@pytest.mark.parametrize(("text", "message"), [
    ("not json", "invalid JSON"),
    ("[]", "expected \"format\""),
    ('{"format": "trust-assistant journal", "entries": {}}', "must be a list"),
    ('{"format": "trust-assistant journal", "entries": [{"id": 1}]}', "\"created\" must be"),
    ('{"format": "trust-assistant journal", "entries": [{"id": 1, "created": "yesterday", '
     '"prompt": "q", "answer": "a"}]}', "not an ISO 8601 date"),
])
def test_bad_import_is_refused(text: str, message: str) -> None:
    with pytest.raises(JournalError, match=message):
        parse_json_export(text)


def test_markdown_export(journal: Journal) -> None:
    add_three(journal)
    text = journal.export("markdown")
    assert text.startswith("# Reflection journal\n")
    assert "## Saturday 9 May 2026, 21:03 (entry 1)" in text
    assert "**What did you notice today?**" in text
    assert "> Ein Spaziergang — und Tee.\n> Zwei Zeilen." in text
    with pytest.raises(JournalError, match="unknown export format"):
        journal.export("csv")


# ------------------------------------------------------------------------------- deletion

def raw_bytes(journal: Journal) -> bytes:
    return b"".join(path.read_bytes() for path in journal.files())


def test_delete_leaves_no_answer_text_on_disk(journal: Journal) -> None:
    with journal:  # one connection: the WAL holds every page written
        add_three(journal)
        assert SECRET.encode() in raw_bytes(journal)
        assert journal.delete(2)
        assert SECRET.encode() not in raw_bytes(journal)
    assert SECRET.encode() not in raw_bytes(journal)
    assert [e.id for e in journal.entries()] == [1, 3]
    assert not journal.delete(2)


def test_delete_all_removes_every_file(journal: Journal) -> None:
    with journal:
        add_three(journal)
    assert journal.delete_all() == 3
    assert journal.files() == []
    assert not any(p.name.startswith("journal") for p in journal.path.parent.iterdir())
    journal.add("q", "a fresh start")
    assert [e.id for e in journal.entries()] == [1]


# ------------------------------------------------------------------------------- SIGKILL

WRITER = """
import sys
from pathlib import Path
from assistant.memory.journal import Journal

journal = Journal(Path(sys.argv[1]))
hold = sys.argv[2] == "hold"
if hold:
    journal.__enter__()
number = 0
while True:
    entry = journal.add("What is on your mind?", f"answer {number} " + "words " * 400)
    print(entry.id, flush=True)
    number += 1
"""


@pytest.mark.parametrize("connection", ["hold", "per-entry"])
def test_sigkill_mid_write_loses_no_committed_entry(tmp_path: Path, connection: str) -> None:
    path = tmp_path / "kill" / "journal.sqlite3"
    with subprocess.Popen([sys.executable, "-c", WRITER, str(path), connection],
                          stdout=subprocess.PIPE, cwd=ROOT, text=True) as child:
        assert child.stdout is not None
        printed: list[int] = []
        deadline = time.monotonic() + 20
        while len(printed) < 150 and time.monotonic() < deadline:
            printed.append(int(child.stdout.readline()))
        os.kill(child.pid, signal.SIGKILL)
        printed += [int(line) for line in child.stdout.read().split()]
    assert child.returncode == -signal.SIGKILL
    assert len(printed) >= 150
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    kept = {entry.id for entry in Journal(path).entries()}
    assert set(printed) <= kept
    assert len(kept) - len(printed) <= 1  # at most the one committed as it was killed


# ------------------------------------------------------------------------- command line

def run(*args: str, stdin: int | None = subprocess.DEVNULL) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant", "journal", *args],
                          stdin=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("trust-assistant: error: "), result.stderr
    return lines[0]


def test_cli_list_when_off_says_how_to_turn_it_on() -> None:
    result = run("list")
    assert result.returncode == 0
    assert "journal is off" in result.stdout and "trust-assistant journal enable" in result.stdout
    assert not journal_file().exists()


def test_cli_enable_status_disable() -> None:
    result = run("enable")
    assert result.returncode == 0 and str(journal_file()) in result.stdout
    assert StateStore().load().journal
    assert mode(config_dir() / "state.yaml") == 0o600
    status = json.loads(run("status", "--json").stdout)
    assert status == {"enabled": True, "entries": 0, "path": str(journal_file()),
                      "exists": False, "bytes": 0}
    Journal().add("q", "a")
    result = run("disable")
    assert "journal is off" in result.stdout and "1 saved entry stays" in result.stdout
    assert not StateStore().load().journal
    assert "The journal is off." in run("status").stdout


def test_cli_list_and_export(tmp_path: Path) -> None:
    add_three(Journal())
    run("enable")
    listed = run("list").stdout
    assert "#2  Sun 2026-05-10 21:01" in listed and SECRET in listed
    lines = run("list", "--json").stdout.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [1, 2, 3]
    out = tmp_path / "export.json"
    result = run("export", "--format", "json", "--out", str(out))
    assert result.returncode == 0 and "Exported 3 entries" in result.stderr
    assert mode(out) == 0o600
    assert [e.answer for e in parse_json_export(out.read_text())][1] == SECRET
    assert run("export").stdout.startswith("# Reflection journal")


def test_cli_delete_needs_confirmation_without_a_terminal() -> None:
    add_three(Journal())
    error = one_line_error(run("delete", "2"))
    assert "--yes" in error
    assert Journal().get(2) is not None
    result = run("delete", "2", "--yes")
    assert result.returncode == 0 and "Deleted entry 2" in result.stdout
    assert Journal().get(2) is None
    assert SECRET.encode() not in raw_bytes(Journal())


@pytest.mark.parametrize(("args", "message"), [
    (("delete",), "say what to delete"),
    (("delete", "2", "--all"), "not both"),
    (("delete", "two", "--yes"), "'two' is not an entry ID"),
    (("delete", "9", "--yes"), "no journal entry with ID 9"),
    (("list", "3"), "takes no entry ID"),
    (("export", "--all"), "--all goes with"),
])
def test_cli_bad_usage_is_one_line(args: tuple[str, ...], message: str) -> None:
    add_three(Journal())
    assert message in one_line_error(run(*args))


def answer_on_a_terminal(args: list[str], answer: str) -> subprocess.CompletedProcess[str]:
    """Run ``journal ARGS`` with a pseudo-terminal as stdin and type ``answer``."""
    main, secondary = os.openpty()
    try:
        os.write(main, answer.encode() + b"\n")
        return run(*args, stdin=secondary)
    finally:
        os.close(main)
        os.close(secondary)


def test_cli_delete_all_asks_on_the_terminal() -> None:
    add_three(Journal())
    kept = answer_on_a_terminal(["delete", "--all"], "n")
    assert kept.returncode == 0 and "Nothing was deleted" in kept.stdout
    assert "Delete all 3 entries" in kept.stdout
    assert Journal().count() == 3
    done = answer_on_a_terminal(["delete", "--all"], "y")
    assert done.returncode == 0 and "removed the journal files" in done.stdout
    assert Journal().files() == []
    assert "no journal to delete" in run("delete", "--all").stdout


def test_cli_delete_all_yes_removes_a_damaged_journal() -> None:
    path = journal_file()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage" * 1000)
    assert "damaged" in one_line_error(run("list"))
    result = run("delete", "--all", "--yes")
    assert result.returncode == 0, result.stderr
    assert not path.exists()


def test_cli_corrupt_state_file_is_one_line() -> None:
    path = config_dir() / "state.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("journal: [unclosed\n")
    error = one_line_error(run("status"))
    assert str(path) in error and "delete it" in error
