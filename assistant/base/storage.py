"""Private files: written atomically, readable by the user only."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .config import private_dir


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` (mode 0600; the folder is made 0700) to write in the
    block; it replaces ``path`` when the block ends, and is removed if the block raises, so
    no reader ever sees half a file."""
    private_dir(path.parent)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically and durably (:func:`replacing`, synced)."""
    with replacing(path) as temporary, temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
