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
from typing import TYPE_CHECKING, Any

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


# ------------------------------------------------------------- speech output that fails

class FailingSynthesizer:
    """The real voice, made to fail the way an engine does (a crashed espeak-ng, a damaged
    voice file): every synthesis after the first ``good`` raises :class:`EngineError`."""

    def __init__(self, real: Any, good: int = 0) -> None:
        self.real = real
        self.good = good
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def synthesize(self, text: str) -> Any:
        self.calls += 1
        if self.calls > self.good:
            from assistant.base.errors import EngineError

            raise EngineError("text-to-speech engine stopped: espeak-ng exited with status 139")
        return self.real.synthesize(text)


class VanishingPlayer:
    """A real :class:`Player` whose output device disappears (unplugged headphones): playing
    raises the :class:`AudioError` PortAudio's lost device becomes."""

    def __init__(self) -> None:
        from assistant.audio.devices import Player

        self.real = Player()
        self.attempts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def play_stream(self, chunks: Any, on_start: Any = None, on_queued: Any = None) -> bool:
        from assistant.base.errors import AudioError

        self.attempts += 1
        raise AudioError("the output device was lost while playing (unplugged?)")


class Recorder:
    """The loop's events, kept (what a front end would show)."""

    def __init__(self) -> None:
        self.turns: list[Any] = []
        self.notices: list[str] = []
        self.replies: list[str] = []

    def status(self, text: str) -> None:
        pass

    def notice(self, text: str) -> None:
        self.notices.append(text)

    def turn(self, turn: Any) -> None:
        self.turns.append(turn)

    def reply(self, text: str) -> None:
        self.replies.append(text)


def _two_requests(tmp_path: Path) -> bytes:
    from assistant.audio.wavio import read_wav

    parts = [read_wav(synthesize(text, tmp_path / f"{i}.wav", "en-us", 160))
             for i, text in enumerate(("how do i apologise properly", "what is the first step"))]
    gap = bytes(int(1.5 * 16000) * 2)
    return gap + gap.join(parts) + gap


@pytest.mark.audio
@pytest.mark.parametrize("fault", ["engine", "device"])
def test_speech_output_failing_prints_the_replies_and_the_conversation_goes_on(
    fault: str, tmp_path: Path,
) -> None:
    """The TTS engine raising, or the speaker vanishing, mid-session: one notice, every reply
    still given (printed), every request still answered, a clean end."""
    from test_listen_loop import RecordedMicrophone

    from assistant.app.assistant import Assistant
    from assistant.base.config import Settings
    from assistant.speech.tts import Speaker, make_synthesizer

    events = Recorder()
    settings = Settings()
    app = Assistant(settings, events).load()
    real = make_synthesizer(settings.tts)
    if fault == "engine":
        speaker = Speaker(FailingSynthesizer(real), VanishingPlayer())  # type: ignore[arg-type]
    else:
        speaker = Speaker(real, VanishingPlayer())  # type: ignore[arg-type]
    loop = app.voice_loop(RecordedMicrophone(_two_requests(tmp_path)),  # type: ignore[arg-type]
                          wake="always", speak=False)
    loop.speaker = speaker
    started = time.monotonic()
    assert loop.run(turns=2, timeout_s=60) == 0
    assert time.monotonic() - started < 60
    assert [t.intent is not None for t in events.turns] == [True, True], events.turns
    assert len(events.replies) == 2 and all(events.replies)
    failures = [n for n in events.notices if "speech output failed" in n]
    assert len(failures) == 1, events.notices  # said once, not at every reply
    assert ("exited with status 139" if fault == "engine" else "device was lost") in failures[0]
    assert "replies are printed instead" in failures[0]


# ------------------------------------------------------------------------ the clock moving

def test_the_clock_set_back_does_not_offer_the_reflection_twice(tmp_path: Path) -> None:
    """After the 21:00 reflection was offered, the clock is set back (a wrong RTC corrected
    by NTP, a manual change) to 20:50: reaching 21:00 again offers nothing more that day;
    the next evening's is offered as usual. (Forward jumps, suspend and resume, and DST
    nights are in test_schedule.py.)"""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from assistant.base.schedule import Schedule
    from assistant.memory.reminder import Reminder
    from assistant.memory.state import State, StateStore

    zone = ZoneInfo("Europe/London")
    set_at = datetime(2026, 5, 11, 12, 0, tzinfo=zone)
    store = StateStore()
    store.save(State(schedule=Schedule("21:00", "daily"), schedule_set=set_at))
    reminder = Reminder(store)
    nine = datetime(2026, 5, 11, 21, 0, tzinfo=zone)
    assert reminder.due(nine)
    back = nine - timedelta(minutes=10)
    polled = [back + timedelta(minutes=m) for m in range(0, 30)]
    assert not any(reminder.due(moment) for moment in polled)
    assert reminder.due(nine + timedelta(days=1))
