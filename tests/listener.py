"""``trust-assistant listen`` in a subprocess on the virtual microphone, its log watched:
shared by the voice-loop tests and ``bench/barge_in.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from vmic import VirtualMic

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 60.0


class Listener:
    """``trust-assistant listen`` in a subprocess, with its stderr watched for "ready"."""

    def __init__(self, vmic: VirtualMic, *args: str, stdin: bytes | None = None) -> None:
        env = {**os.environ, **vmic.env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assistant", "listen", "--json", "-vv", *args],
            cwd=ROOT, env=env, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        if stdin is not None and self.proc.stdin is not None:
            self.proc.stdin.write(stdin)
            self.proc.stdin.close()
        self.stderr: list[str] = []
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._read, args=(self.proc.stderr,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[bytes] | None) -> None:
        assert stream is not None
        for raw in stream:
            line = raw.decode(errors="replace")
            self.stderr.append(line)
            if "ready:" in line:
                self.ready.set()

    def wait_ready(self) -> None:
        assert self.ready.wait(READY_TIMEOUT_S), "".join(self.stderr)
        time.sleep(0.5)

    def count(self, text: str) -> int:
        """How many lines of the log so far have ``text``."""
        return sum(text in line for line in self.stderr)

    def wait_for(self, text: str, timeout: float, count: int = 1) -> None:
        """Wait until the log has ``count`` lines with ``text`` (AssertionError if not)."""
        deadline = time.monotonic() + timeout
        while self.count(text) < count:
            assert time.monotonic() < deadline, f"no {text!r} in the log: {''.join(self.stderr)}"
            time.sleep(0.1)

    def finish(self, timeout: float = 90) -> tuple[int, list[dict[str, object]]]:
        out, _ = self.proc.communicate(timeout=timeout)
        self._reader.join(timeout=5)
        turns = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
        return self.proc.returncode, turns

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def listening(vmic: VirtualMic, *args: str, stdin: bytes | None = None) -> Iterator[Listener]:
    listener = Listener(vmic, *args, stdin=stdin)
    try:
        yield listener
    finally:
        listener.kill()
