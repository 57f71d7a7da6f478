"""Faults from outside (issue 13): a full disk while the journal is written, and SIGTERM or
SIGINT while a reply is being spoken. Each gets a one-line message or a clean exit, and
nothing already kept is lost. (Elsewhere: a lost sound server and a stalled or overflowing
microphone in test_audio.py, a damaged phrase-model cache in test_stt_pocketsphinx.py, damaged
models in test_stt_*.py, a damaged state file or journal in test_journal.py and
test_services.py, DST and missed reminders in test_schedule.py.)"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from listener import ROOT, listening
from speech import ESPEAK, synthesize

if TYPE_CHECKING:
    from vmic import VirtualMic

pytest_plugins = ["vmic"]


def _cli(*args: str, limit_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    def limited() -> None:  # files cannot grow past limit_bytes: writes fail as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run([sys.executable, "-m", "assistant", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, preexec_fn=limited,
                          env=os.environ.copy())


def test_a_full_disk_keeps_the_journal_and_says_the_answer_was_not_saved() -> None:
    assert _cli("journal", "enable").returncode == 0
    first = _cli("reflect", "--answer", "I noticed that I rushed", "--no-speech")
    assert first.returncode == 0 and "kept your answer" in first.stdout
    full = _cli("reflect", "--answer", "a second answer", "--no-speech", limit_bytes=4096)
    assert full.returncode == 0, full.stderr
    assert "couldn't save it to your journal" in full.stdout
    errors = [line for line in full.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "the answer was not kept" in errors[0], full.stderr
    listed = _cli("journal", "list")
    assert "I noticed that I rushed" in listed.stdout and "a second answer" not in listed.stdout
    after = _cli("reflect", "--answer", "space again", "--no-speech")
    assert "kept your answer" in after.stdout
    assert "space again" in _cli("journal", "list").stdout


@pytest.mark.vmic
@pytest.mark.skipif(ESPEAK is None, reason="needs espeak-ng")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_speaking_ends_listen_at_once_and_cleanly(
        vmic: VirtualMic, tmp_path: Path, sig: signal.Signals) -> None:
    request = synthesize("how do I start rebuilding trust with my partner",
                         tmp_path / "request.wav", silence_s=0.3)
    with listening(vmic, "--no-wake", "--timeout", "80") as listener:
        listener.wait_ready()
        vmic.play(request)
        listener.wait_for("started speaking", timeout=40)
        time.sleep(1.0)
        sent = time.monotonic()
        listener.proc.send_signal(sig)
        status, turns = listener.finish(timeout=20)
        took = time.monotonic() - sent
    log = "".join(listener.stderr)
    assert status == 0, log
    assert took < 5.0, (took, log)
    assert "Traceback" not in log
    assert len(turns) == 1 and turns[0]["reply"], (turns, log)
