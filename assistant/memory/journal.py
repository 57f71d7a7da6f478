"""The private journal of reflection answers (opt-in), in SQLite from the standard library.

One file, ``data_dir()/journal.sqlite3`` (with its ``-wal`` and ``-shm`` companions while it is
open), created under umask 077 so every file is mode 0600 and the folder 0700. WAL mode with
``synchronous=FULL``: an entry is on disk when :meth:`Journal.add` returns, and a process
killed mid-write loses nothing that was committed. ``secure_delete`` zeroes deleted content;
:meth:`Journal.delete` also vacuums and truncates the WAL so the text is gone from the files,
and :meth:`Journal.delete_all` overwrites and removes the files themselves.

Only text is kept (date, prompt, transcribed answer, topic), never audio. Each operation opens
and closes its own connection (so the files are not held open by a long-running assistant and
another process can delete them); ``with journal:`` keeps one connection for a batch.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from ..base.config import data_dir, private_dir
from ..base.errors import JournalError
from ..base.schedule import local_zone

FORMATS = ("markdown", "json")
"""Export formats."""

JSON_FORMAT = "trust-assistant journal"
"""The ``format`` field of a JSON export."""

_SUFFIXES = ("", "-wal", "-shm", "-journal")
"""The database file and the companions SQLite may create next to it."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    prompt TEXT NOT NULL,
    answer TEXT NOT NULL,
    topic TEXT
);
PRAGMA user_version = 1;
"""

_COLUMNS = "id, created, prompt, answer, topic"


@dataclass(frozen=True)
class Entry:
    """One journal entry."""

    id: int
    created: str
    """When the answer was given: ISO 8601 local time with its UTC offset."""
    prompt: str
    """The reflective question that was asked."""
    answer: str
    """The person's answer, as transcribed text."""
    topic: str | None = None
    """Name of the intent the prompt belongs to, when known."""

    @property
    def when(self) -> datetime:
        return datetime.fromisoformat(self.created)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def journal_file() -> Path:
    """``data_dir()/journal.sqlite3``."""
    return data_dir() / "journal.sqlite3"


class Journal:
    """The journal at ``path`` (default :func:`journal_file`); nothing is created until the
    first :meth:`add` or import."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or journal_file()
        self._conn: sqlite3.Connection | None = None
        self._depth = 0

    # ---------------------------------------------------------------------------- connection

    def __enter__(self) -> Journal:
        self._depth += 1
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.close()

    def close(self) -> None:
        """Close the connection, if one is open (SQLite then checkpoints and drops the WAL)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    def exists(self) -> bool:
        return self.path.exists()

    def files(self) -> list[Path]:
        """The journal's files that exist now (database, WAL, shared memory, journal)."""
        return [p for p in _companions(self.path) if p.exists()]

    def size(self) -> int:
        """Total size of the journal's files (bytes)."""
        return sum(p.stat().st_size for p in self.files())

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._errors():
            if self._conn is None:
                self._conn = _open(self.path)
            try:
                yield self._conn
            finally:
                if self._depth == 0:
                    self.close()

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            self.close()
            raise _journal_error(self.path, exc) from None
        except OSError as exc:
            self.close()
            raise JournalError(f"cannot use the journal {self.path}: {exc.strerror}") from None

    # -------------------------------------------------------------------------------- reading

    def entries(self) -> list[Entry]:
        """Every entry, oldest first; [] when there is no journal yet."""
        if not self.exists():
            return []
        with self._connection() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM entries ORDER BY id").fetchall()
        return [Entry(*row) for row in rows]

    def last(self) -> Entry | None:
        """The most recently added entry, or None."""
        if not self.exists():
            return None
        with self._connection() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM entries ORDER BY id DESC LIMIT 1").fetchone()
        return Entry(*row) if row else None

    def get(self, entry_id: int) -> Entry | None:
        if not self.exists():
            return None
        with self._connection() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM entries WHERE id = ?",
                               (entry_id,)).fetchone()
        return Entry(*row) if row else None

    def count(self) -> int:
        if not self.exists():
            return 0
        with self._connection() as conn:
            return int(conn.execute("SELECT count(*) FROM entries").fetchone()[0])

    # -------------------------------------------------------------------------------- writing

    def add(self, prompt: str, answer: str, topic: str | None = None,
            when: datetime | None = None) -> Entry:
        """Keep one answer; it is committed (on disk) when this returns."""
        created = (when or datetime.now(local_zone())).isoformat(timespec="seconds")
        _check_aware(created)
        with self._connection() as conn:
            cursor = conn.execute(
                "INSERT INTO entries (created, prompt, answer, topic) VALUES (?, ?, ?, ?)",
                (created, prompt, answer, topic))
            entry_id = int(cursor.lastrowid or 0)
        return Entry(entry_id, created, prompt, answer, topic)

    def delete(self, entry_id: int) -> bool:
        """Delete one entry and scrub its text from the files; False if there is no such id."""
        if not self.exists():
            return False
        with self._connection() as conn:
            deleted = conn.execute("DELETE FROM entries WHERE id = ?", (entry_id,)).rowcount
            if deleted:
                self._scrub(conn, f"entry {entry_id} was deleted")
        return bool(deleted)

    def delete_all(self) -> int:
        """Delete every entry, then overwrite and remove the files; the number deleted."""
        count = 0
        if self.exists():
            with suppress(JournalError):  # a damaged or busy file is removed all the same
                count = self.count()
                self._empty()
        self.close()
        for path in self.files():
            _shred(path)
        return count

    def _empty(self) -> None:
        with self._connection() as conn:
            conn.execute("DELETE FROM entries")
            conn.execute("DELETE FROM sqlite_sequence")
            self._scrub(conn, "the entries were deleted")

    def _scrub(self, conn: sqlite3.Connection, done: str) -> None:
        """Rebuild the file without freed pages and empty the WAL."""
        conn.execute("VACUUM")
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if busy:
            raise JournalError(
                f"{done}, but another program has the journal open, so a copy of the text "
                f"stays in {self.path}-wal until it closes; stop it and run this again")

    # ---------------------------------------------------------------------- export and import

    def export(self, fmt: str) -> str:
        """All entries as ``markdown`` or ``json`` text."""
        if fmt == "json":
            return export_json(self.entries())
        if fmt == "markdown":
            return export_markdown(self.entries())
        raise JournalError(f"unknown export format '{fmt}' (use one of: {', '.join(FORMATS)})")

    def import_json(self, text: str) -> list[Entry]:
        """Add the entries of a JSON export (ids kept when free); the entries added."""
        records = parse_json_export(text)
        added: list[Entry] = []
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                added = [_insert(conn, record) for record in records]
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return added


# ----------------------------------------------------------------------------- the database

def _open(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the journal at ``path``: 0600 files, WAL, secure delete."""
    private_dir(path.parent)
    with _private_umask():
        conn = sqlite3.connect(path, timeout=5.0, isolation_level=None)
        try:
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA temp_store = MEMORY")
            if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
                conn.executescript(_SCHEMA)
        except BaseException:
            conn.close()
            raise
    for existing in _companions(path):
        if existing.exists() and existing.stat().st_mode & 0o077:
            existing.chmod(0o600)
    return conn


@contextmanager
def _private_umask() -> Iterator[None]:
    """umask 077 while SQLite creates files (process-wide: only around opening)."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def _companions(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in _SUFFIXES]


def _shred(path: Path) -> None:
    """Overwrite ``path`` with zeros, flush it to disk, then remove it."""
    try:
        size = path.stat().st_size
        with open(path, "r+b") as handle:
            handle.write(b"\0" * size)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        pass
    path.unlink(missing_ok=True)


def _insert(conn: sqlite3.Connection, record: Entry) -> Entry:
    taken = conn.execute("SELECT 1 FROM entries WHERE id = ?", (record.id,)).fetchone()
    entry_id = None if taken else record.id
    cursor = conn.execute(
        "INSERT INTO entries (id, created, prompt, answer, topic) VALUES (?, ?, ?, ?, ?)",
        (entry_id, record.created, record.prompt, record.answer, record.topic))
    return Entry(int(cursor.lastrowid or 0), record.created, record.prompt, record.answer,
                 record.topic)


def _journal_error(path: Path, exc: sqlite3.Error) -> JournalError:
    message = str(exc)
    if "locked" in message or "busy" in message:
        return JournalError(f"the journal {path} is busy in another program; try again")
    if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        return JournalError(
            f"the journal {path} is damaged ({message}); remove it with "
            "'trust-assistant journal delete --all'")
    return JournalError(f"cannot use the journal {path}: {message}")


def _check_aware(created: str) -> None:
    if datetime.fromisoformat(created).utcoffset() is None:
        raise JournalError(f"journal date {created} has no UTC offset")


# --------------------------------------------------------------------------------- formats

def export_json(entries: list[Entry]) -> str:
    """A JSON document of ``entries`` that :func:`parse_json_export` reads back."""
    document = {"format": JSON_FORMAT, "version": 1,
                "entries": [entry.to_json() for entry in entries]}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def parse_json_export(text: str) -> list[Entry]:
    """The entries of a JSON export; :class:`JournalError` naming what is wrong."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise JournalError(f"not a journal export: invalid JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != JSON_FORMAT:
        raise JournalError(f"not a journal export: expected \"format\": \"{JSON_FORMAT}\"")
    records = document.get("entries")
    if not isinstance(records, list):
        raise JournalError("not a journal export: \"entries\" must be a list")
    return [_entry_from_json(record, number) for number, record in enumerate(records, 1)]


def _entry_from_json(record: Any, number: int) -> Entry:
    where = f"journal export entry {number}"
    if not isinstance(record, dict):
        raise JournalError(f"{where}: expected an object")
    fields = {"id": int, "created": str, "prompt": str, "answer": str}
    for key, kind in fields.items():
        if not isinstance(record.get(key), kind) or isinstance(record.get(key), bool):
            raise JournalError(f"{where}: \"{key}\" must be {kind.__name__}")
    topic = record.get("topic")
    if topic is not None and not isinstance(topic, str):
        raise JournalError(f"{where}: \"topic\" must be text or null")
    try:
        _check_aware(record["created"])
    except ValueError:
        raise JournalError(f"{where}: \"created\" is not an ISO 8601 date") from None
    return Entry(record["id"], record["created"], record["prompt"], record["answer"], topic)


def export_markdown(entries: list[Entry]) -> str:
    """``entries`` as a Markdown document for reading or printing."""
    lines = ["# Reflection journal", "",
             "Private: this file holds your own words. Keep it somewhere safe.", ""]
    if not entries:
        lines += ["No entries.", ""]
    for entry in entries:
        when = entry.when
        lines += [f"## {when:%A} {when.day} {when:%B %Y, %H:%M} (entry {entry.id})", "",
                  f"**{entry.prompt}**", ""]
        lines += [f"> {line}".rstrip() for line in entry.answer.splitlines() or [""]]
        lines.append("")
    return "\n".join(lines)
