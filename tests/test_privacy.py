"""No network at run time: every command a user runs works with no network at all, and none
of them even tries to open a connection."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from speech import synthesize

ROOT = Path(__file__).resolve().parent.parent

# Runs the command line inside Python with an audit hook that aborts on any attempt to
# resolve a name or open a network connection (Python-level sockets, urllib, http.client...).
GUARD = """
import sys
def guard(event, args):
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
                 "urllib.Request", "http.client.connect"):
        raise SystemExit(f"NETWORK ATTEMPT: {event} {args!r}")
    if event == "socket.connect":
        family = getattr(args[0], "family", None)
        import socket
        if family in (socket.AF_INET, socket.AF_INET6):
            raise SystemExit(f"NETWORK ATTEMPT: {event} {args!r}")
sys.addaudithook(guard)
from assistant.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def run_guarded(*args: str, isolate: bool, stdin: bytes | None = None,
                ) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-c", GUARD, *args]
    if isolate:
        command = ["unshare", "--net", "--", *command]
    return subprocess.run(command, input=stdin, capture_output=True, timeout=180, cwd=ROOT,
                          env=dict(os.environ))


def can_isolate() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0


COMMANDS = [
    ["ask", "--json", "how do I apologise properly"],
    ["ask", "-", "--json"],
    ["intents", "check"],
    ["journal", "enable"],
    ["reflect", "--answer", "I want to listen more", "--json"],
    ["journal", "export", "--format", "json"],
    ["models", "list"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
@pytest.mark.parametrize("isolate", [False, True], ids=["audit", "no-network-namespace"])
def test_text_commands_need_no_network(args: list[str], isolate: bool) -> None:
    if isolate and not can_isolate():
        pytest.skip("unshare --net is not available here")
    result = run_guarded(*args, isolate=isolate, stdin=b"where do i start\ntell me more\n")
    assert b"NETWORK ATTEMPT" not in result.stderr + result.stdout
    assert result.returncode == 0, result.stderr.decode()


@pytest.mark.audio
@pytest.mark.parametrize("isolate", [False, True], ids=["audit", "no-network-namespace"])
def test_voice_commands_need_no_network(tmp_path: Path, isolate: bool) -> None:
    if isolate and not can_isolate():
        pytest.skip("unshare --net is not available here")
    wav = synthesize("how do I start rebuilding trust", tmp_path / "q.wav", silence_s=0.5)
    for args in (["transcribe", str(wav)], ["ask", "--wav", str(wav), "--json"],
                 ["say", "Take your time.", "--out", str(tmp_path / "reply.wav")]):
        result = run_guarded(*args, isolate=isolate)
        assert b"NETWORK ATTEMPT" not in result.stderr + result.stdout
        assert result.returncode == 0, result.stderr.decode()
    assert (tmp_path / "reply.wav").stat().st_size > 10_000


def test_the_guard_catches_a_connection() -> None:
    """The audit hook really does stop network use (so the tests above can fail)."""
    probe = GUARD.replace(
        "from assistant.cli import main\nraise SystemExit(main(sys.argv[1:]))",
        "import urllib.request\nurllib.request.urlopen('http://127.0.0.1:9/', timeout=1)",
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=30)
    assert b"NETWORK ATTEMPT" in result.stderr + result.stdout
