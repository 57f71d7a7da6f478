"""``trust-assistant journal list|export|delete|enable|disable|status``.

Errors are one line (exit status 2). Deleting asks for confirmation on the terminal unless
``--yes`` is given, and refuses when there is no terminal to ask on.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..app.assistant import Assistant
from ..base.config import Settings
from ..base.errors import JournalError, UsageError
from ..memory.journal import Entry, Journal
from ..memory.state import StateStore

PROG = "trust-assistant"
ENABLE_HINT = f"turn it on with '{PROG} journal enable' or say \"turn on my journal\""

Action = Callable[[argparse.Namespace, Journal, StateStore], int]


def journal(args: argparse.Namespace, settings: Settings) -> int:
    """Run one ``journal`` action; the exit status."""
    _check_arguments(args)
    actions: dict[str, Action] = {
        "list": _list, "export": _export, "delete": _delete, "enable": _enable,
        "disable": _disable, "status": _status,
    }
    app = Assistant(settings)
    return actions[args.action](args, app.journal, app.state)


def _check_arguments(args: argparse.Namespace) -> None:
    if args.action != "delete":
        if args.entry is not None:
            raise UsageError(f"'journal {args.action}' takes no entry ID")
        if args.all:
            raise UsageError(f"--all goes with 'journal delete', not 'journal {args.action}'")
        return
    if args.all and args.entry is not None:
        raise UsageError("give either an entry ID or --all, not both")
    if not args.all and args.entry is None:
        raise UsageError(f"say what to delete: '{PROG} journal delete ID' (IDs are in "
                         f"'{PROG} journal list') or '{PROG} journal delete --all'")


# ---------------------------------------------------------------------------------- reading

def _list(args: argparse.Namespace, journal: Journal, store: StateStore) -> int:
    enabled = store.load().journal
    entries = journal.entries()
    note = _list_note(enabled, len(entries))
    if note:
        print(note, file=sys.stderr if args.json else sys.stdout)
    for entry in entries:
        if args.json:
            print(json.dumps(entry.to_json(), ensure_ascii=False))
        else:
            print(_entry_text(entry))
    return 0


def _list_note(enabled: bool, count: int) -> str | None:
    if not enabled and not count:
        return f"The journal is off, so no answers are kept; {ENABLE_HINT}."
    if not enabled:
        return f"The journal is off (new answers are not kept; {ENABLE_HINT}). Saved entries:"
    if not count:
        return "The journal is on and has no entries yet."
    return None


def _entry_text(entry: Entry) -> str:
    when = entry.when
    answer = "\n       ".join(entry.answer.splitlines() or [""])
    return f"#{entry.id}  {when:%a %Y-%m-%d %H:%M}\n    Q: {entry.prompt}\n    A: {answer}\n"


def _export(args: argparse.Namespace, journal: Journal, store: StateStore) -> int:
    text = journal.export(args.format)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    write_user_file(args.out, text)
    count = journal.count()
    print(f"Exported {count} {'entry' if count == 1 else 'entries'} to {args.out} "
          "(readable by you only; it holds your own words, so keep it safe).", file=sys.stderr)
    return 0


def write_user_file(path: Path, text: str) -> None:
    """Write ``path`` atomically with mode 0600, leaving its folder's permissions alone."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"cannot write {path}: the folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


# --------------------------------------------------------------------------------- deleting

def _delete(args: argparse.Namespace, journal: Journal, store: StateStore) -> int:
    if args.all:
        return _delete_all(args, journal, store)
    entry_id = _entry_id(args.entry)
    entry = journal.get(entry_id)
    if entry is None:
        raise JournalError(f"no journal entry with ID {entry_id} (see '{PROG} journal list')")
    question = (f"Delete entry {entry_id} of {entry.when:%Y-%m-%d} "
                f"(\"{_short(entry.prompt)}\")? This cannot be undone.")
    if not (args.yes or _confirm(question)):
        print("Nothing was deleted.")
        return 0
    journal.delete(entry_id)
    print(f"Deleted entry {entry_id}; its text is gone from the journal files.")
    return 0


def _delete_all(args: argparse.Namespace, journal: Journal, store: StateStore) -> int:
    if not journal.files():
        print("There is no journal to delete.")
        return 0
    try:
        what = _entries(journal.count())
    except JournalError:
        what = "the damaged journal"  # still removed: that is how a damaged journal is fixed
    question = f"Delete {what} and the journal files? This cannot be undone."
    if not (args.yes or _confirm(question)):
        print("Nothing was deleted.")
        return 0
    journal.delete_all()
    print(f"Deleted {what} and removed the journal files ({journal.path}).")
    if store.load().journal:
        print(f"The journal is still on; '{PROG} journal disable' turns it off.")
    return 0


def _entries(count: int) -> str:
    return "1 entry" if count == 1 else f"all {count} entries"


def _entry_id(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise UsageError(f"'{text}' is not an entry ID: use the number shown by "
                         f"'{PROG} journal list'")
    return int(text)


def _confirm(question: str) -> bool:
    """Ask on the terminal; :class:`UsageError` when there is none to ask on."""
    if not sys.stdin.isatty():
        raise UsageError("not deleting without confirmation: there is no terminal to ask on; "
                         "add --yes to delete anyway")
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _short(text: str, limit: int = 50) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


# ----------------------------------------------------------------------------- on, off, status

def _enable(args: argparse.Namespace, journal: Journal, store: StateStore) -> int:
    store.update(journal=True)
    print(f"The journal is on: your answers to reflective questions are kept as text (never "
          f"audio) in {journal.path}, readable by you only. '{PROG} journal disable' turns it "
          f"off; '{PROG} journal delete --all' removes it.")
    return 0


def _disable(args: argparse.Namespace, journal: Journal, store: StateStore) -> int:
    store.update(journal=False)
    print("The journal is off: new answers are not kept.")
    count = journal.count()
    if count:
        print(f"{count} saved {'entry stays' if count == 1 else 'entries stay'} in "
              f"{journal.path} until you run '{PROG} journal delete --all'.")
    return 0


def _status(args: argparse.Namespace, journal: Journal, store: StateStore) -> int:
    enabled = store.load().journal
    count = journal.count()
    if args.json:
        print(json.dumps({"enabled": enabled, "entries": count, "path": str(journal.path),
                          "exists": journal.exists(), "bytes": journal.size()}))
        return 0
    print(f"The journal is {'on' if enabled else 'off'}.")
    if journal.exists():
        print(f"{count} {'entry' if count == 1 else 'entries'} in {journal.path} "
              f"({journal.size() / 1024:.1f} kB).")
    else:
        print(f"No journal file yet (it would be {journal.path}).")
    if not enabled:
        print(f"To keep your answers, {ENABLE_HINT}.")
    return 0
