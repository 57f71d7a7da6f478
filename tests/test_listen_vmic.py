"""The hands-free loop for real: PulseAudio's null sink is the microphone and the speaker.

A spoken request (espeak-ng) is played into the sink while ``trust-assistant listen`` runs in a
subprocess; its answer is read from ``--json`` and the assistant's own voice is recorded from
the sink's monitor and transcribed back.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from listener import ROOT, listening
from speech import synthesize

from assistant.audio.wavio import read_wav
from assistant.base.config import Settings

if TYPE_CHECKING:
    from vmic import VirtualMic

pytest_plugins = ["vmic"]
pytestmark = [pytest.mark.vmic, pytest.mark.audio]

VOICE, RATE = "en-us+f2", 175
"""The espeak-ng voice of the tests whose phrases other voices are heard less reliably in."""


def voiced_seconds(path: Path, after_s: float = 0.0) -> float:
    """Seconds of the recording (after ``after_s``) that carry sound."""
    return float((frame_rms(read_wav(path))[int(after_s / 0.03):] > 300).sum() * 0.03)


def frame_rms(pcm: bytes) -> np.ndarray:
    """RMS of each 30 ms frame (480 samples at 16 kHz) of 16-bit PCM."""
    samples = np.frombuffer(pcm[: len(pcm) // 960 * 960], dtype=np.int16).astype(np.float32)
    return np.sqrt((samples.reshape(-1, 480) ** 2).mean(axis=1))


def loudness(path: Path) -> np.ndarray:
    """RMS of each 30 ms frame of a WAV file that is still being recorded."""
    return frame_rms(path.read_bytes()[44:] if path.exists() else b"")


def wait_for_speech(path: Path, *, after_s: float = 0.0, then_quiet_s: float | None = None,
                    timeout: float = 40.0) -> None:
    """Wait until the recording of the sink (``path``, being written) carries sound after
    ``after_s``; with ``then_quiet_s``, also until that sound has been followed by so many
    seconds of silence (the assistant has finished speaking). Timing by what is heard rather
    than by fixed sleeps keeps the tests right on a slow or busy machine."""
    deadline = time.monotonic() + timeout
    start = int(after_s / 0.03)
    while time.monotonic() < deadline:
        loud = loudness(path)[start:] > 300
        if loud.any():
            if then_quiet_s is None:
                return
            last = int(np.flatnonzero(loud)[-1])
            # a stream starting up can click and then stall; a reply is longer than that
            if loud.sum() * 0.03 >= 1.0 and (len(loud) - 1 - last) * 0.03 >= then_quiet_s:
                return
        time.sleep(0.1)
    raise AssertionError(f"the assistant did not {'finish ' if then_quiet_s else ''}speak "
                         f"within {timeout:.0f} s")


def wait_for_quiet(path: Path, quiet_s: float = 1.0, timeout: float = 20.0) -> None:
    """Wait until the sink (recorded into ``path``) has been silent for ``quiet_s``: nothing
    of an earlier test, or of a start-up notice, is still playing."""
    deadline = time.monotonic() + timeout
    frames = int(quiet_s / 0.03)
    while time.monotonic() < deadline:
        levels = loudness(path)
        if len(levels) >= frames and not (levels[-frames:] > 300).any():
            return
        time.sleep(0.1)
    raise AssertionError(f"the sink did not fall silent within {timeout:.0f} s")


def content_words(text: str) -> set[str]:
    from assistant.base.normalize import normalize
    from assistant.pack.terms import STOPWORDS

    return {w for w in normalize(text).split() if w not in STOPWORDS and len(w) > 3}


def test_wake_phrase_request_gets_a_spoken_answer(vmic: VirtualMic, tmp_path: Path) -> None:
    request = synthesize("hey coach, how do I start rebuilding trust with my partner?",
                         tmp_path / "request.wav", silence_s=0.5)
    with listening(vmic, "--turns", "1", "--timeout", "60") as listener:
        listener.wait_ready()
        with vmic.recording(tmp_path / "before.wav") as before:
            wait_for_quiet(before)
        with vmic.recording(tmp_path / "heard.wav"):
            vmic.play(request)
            status, turns = listener.finish()
    assert status == 0, "".join(listener.stderr)
    assert [t["intent"] for t in turns] == ["where_to_start"], "".join(listener.stderr)
    assert "hey coach" not in str(turns[0]["text"])

    # the reply was spoken: transcribe what the sink played after the request
    from assistant.speech.stt import make_recognizer

    recognizer = make_recognizer(Settings().stt)
    request_s = len(read_wav(request)) / 2 / 16000
    pcm = read_wav(tmp_path / "heard.wav")[int(request_s * 16000) * 2:]
    heard = recognizer.transcribe(pcm, "open").text
    reply_words = content_words(str(turns[0]["reply"]))
    found = reply_words & content_words(heard)
    assert len(found) >= len(reply_words) * 0.3, (heard, reply_words)


def test_the_assistant_does_not_answer_itself(vmic: VirtualMic, tmp_path: Path) -> None:
    request = synthesize("what makes an apology sincere", tmp_path / "q.wav", silence_s=0.5)
    with listening(vmic, "--no-wake", "--turns", "3", "--timeout", "35") as listener:
        listener.wait_ready()
        vmic.play(request)
        listener.wait_for("reply: ", timeout=30)
        time.sleep(4.0)  # long enough to hear its own reply's tail, were it to
        listener.proc.send_signal(signal.SIGINT)
        status, turns = listener.finish()
    assert status == 0
    # one request, one answer: the answer itself, heard by the microphone, is not a request
    assert [t["intent"] for t in turns] == ["sincere_apology"], turns


LONG_REQUESTS = ("how do I start rebuilding trust with my partner",
                 "what makes an apology sincere")
"""Two requests with long replies (more in a row: ``bench/barge_in.py``)."""


@pytest.mark.parametrize("sink", ["low-latency", "plain"])
def test_long_replies_play_to_their_end(vmic: VirtualMic, tmp_path: Path, sink: str) -> None:
    """Its own voice, heard through the microphone, never cuts a reply short or is taken for
    a request. With the low-latency sink, what the sink played is recorded and the replies
    sound (nearly) as long as the same replies written to a file; the plain sink cannot be
    recorded without turning it into the other, so there the loop's own account is read."""
    # one request through the plain sink: its monitor lags by seconds, so a request said
    # right after a reply can still be taken for the reply's tail there (see the README)
    texts = LONG_REQUESTS if sink != "plain" else LONG_REQUESTS[:1]
    requests = [synthesize(text, tmp_path / f"q{i}.wav", silence_s=0.3)
                for i, text in enumerate(texts)]
    heard = tmp_path / "heard.wav"
    with contextlib.ExitStack() as stack:
        if sink == "plain":
            stack.enter_context(vmic.plain())
        with listening(vmic, "--no-wake", "--turns", "3", "--timeout", "80") as listener:
            listener.wait_ready()
            with (vmic.recording(heard) if sink != "plain" else contextlib.nullcontext()):
                for count, request in enumerate(requests, 1):
                    vmic.play(request)
                    listener.wait_for("reply: ", timeout=40, count=count)
                    time.sleep(2.5)  # what it hears after the reply; the sink's last block
                listener.proc.send_signal(signal.SIGINT)
                status, turns = listener.finish()
    log = "".join(listener.stderr)
    assert status == 0, log
    assert len(turns) == len(requests), (turns, log)
    assert log.count("reply: played to the end") == len(requests), log
    if sink == "plain":
        return
    expected = 0.0
    for i, turn in enumerate(turns):
        said = subprocess.run(
            [sys.executable, "-m", "assistant", "say", "--out", str(tmp_path / f"r{i}.wav"),
             str(turn["reply"])], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert said.returncode == 0, said.stderr
        expected += voiced_seconds(tmp_path / f"r{i}.wav")
    asked = sum(voiced_seconds(request) for request in requests)
    played = voiced_seconds(heard) - asked
    assert played >= 0.9 * expected, (played, expected)


def test_saying_stop_over_the_reply_cuts_it_short(vmic: VirtualMic, tmp_path: Path) -> None:
    request = synthesize("how do I start rebuilding trust with my partner",
                         tmp_path / "q.wav", silence_s=0.3)
    stop = synthesize("stop", tmp_path / "stop.wav", voice="en+m3", rate=150)
    with listening(vmic, "--no-wake", "--turns", "2", "--timeout", "45") as listener:
        listener.wait_ready()
        with vmic.recording(tmp_path / "heard.wav") as heard:
            vmic.play(request)
            request_s = len(read_wav(tmp_path / "q.wav")) / 2 / 16000
            wait_for_speech(heard, after_s=request_s + 0.3)  # the reply (13 s long) has begun
            time.sleep(1.5)
            vmic.play(stop)
            status, turns = listener.finish()
    assert status == 0
    assert [t["intent"] for t in turns] == ["where_to_start", "stop"], turns
    spoken = voiced_seconds(tmp_path / "heard.wav", after_s=request_s)
    assert spoken < 8.0, f"the reply went on for {spoken:.1f} s of sound"


def test_ctrl_c_ends_listening_cleanly(vmic: VirtualMic) -> None:
    with listening(vmic) as listener:
        listener.wait_ready()
        started = time.monotonic()
        listener.proc.send_signal(signal.SIGINT)
        status, _ = listener.finish(timeout=15)
    assert status == 0
    assert time.monotonic() - started < 5
    assert "Traceback" not in "".join(listener.stderr)


def test_reflection_reminder_set_by_voice(vmic: VirtualMic, tmp_path: Path) -> None:
    """ "Hey coach, remind me to reflect every evening at nine": understood, kept, confirmed."""
    from assistant.memory.state import StateStore

    # A voice the recogniser hears this request right in from every sample offset (20 of 20;
    # in others "nine" can come out as "eight"): this test is about the live path, while
    # tests/test_spoken.py measures recognition over voices and rates.
    # The phrase model alone: Whisper tiny.en's second reading of this synthetic voice has
    # turned "at nine" into "at 2 19" (14:19) in one run of three (issue 11).
    request = synthesize("hey coach, remind me to reflect every evening at nine",
                         tmp_path / "request.wav", VOICE, RATE, silence_s=0.5)
    config = tmp_path / "phrase-model.yaml"
    config.write_text("stt: {second_pass: false}\n")
    with listening(vmic, "--turns", "1", "--timeout", "60", "--config", str(config)) as listener, \
            vmic.recording(tmp_path / "before.wav") as before:
        listener.wait_ready()
        wait_for_quiet(before)
        vmic.play(request)
        status, turns = listener.finish()
    assert status == 0, "".join(listener.stderr)
    assert [t["intent"] for t in turns] == ["reflection_schedule"], "".join(listener.stderr)
    assert turns[0]["slots"] == {"time": "21:00", "days": "daily"}, turns
    schedule = StateStore().load().schedule
    assert schedule is not None and (schedule.time, schedule.days) == ("21:00", "daily")
    assert "9" in str(turns[0]["reply"]) or "nine" in str(turns[0]["reply"]).lower()


def test_spoken_reflection_answer_is_kept_in_the_journal(
    vmic: VirtualMic, tmp_path: Path
) -> None:
    """The scheduled reflection comes due, the prompt is spoken, the spoken answer is kept."""
    from datetime import datetime, timedelta

    from assistant.base.schedule import local_zone
    from assistant.memory.journal import Journal
    from assistant.memory.state import StateStore

    subprocess.run([sys.executable, "-m", "assistant", "journal", "enable"], check=True,
                   capture_output=True, cwd=ROOT)
    # a reminder due a minute ago, set an hour ago: offered once, when listening starts
    now = datetime.now(local_zone())
    due = (now - timedelta(minutes=1)).strftime("%H:%M")
    store = StateStore()
    from assistant.base.schedule import Schedule

    store.update(schedule=Schedule(due, "daily"), schedule_set=now - timedelta(hours=1))
    # the voice of the reminder test: "I am done" is heard as such from every sample offset
    answer = synthesize("I want to listen to her without getting defensive",
                        tmp_path / "answer.wav", VOICE, RATE, silence_s=0.3)
    done = synthesize("I am done", tmp_path / "done.wav", VOICE, RATE, silence_s=0.3)
    with listening(vmic, "--turns", "1", "--timeout", "60") as listener, \
            vmic.recording(tmp_path / "heard.wav") as heard:
        listener.wait_ready()
        wait_for_speech(heard, then_quiet_s=1.5)  # the prompt is spoken first
        vmic.play(answer)
        time.sleep(1.0)
        vmic.play(done)
        status, turns = listener.finish()
    assert status == 0, "".join(listener.stderr)
    assert turns[0]["intent"] == "reflection_prompt"
    assert "reflection" in str(turns[0]["reply"]).lower()
    entries = Journal().entries()
    assert len(entries) == 1, turns
    kept = content_words(entries[0].answer)
    assert kept & {"listen", "defensive", "without", "getting"}, (
        entries[0].answer, "".join(listener.stderr))
    assert entries[0].prompt in str(turns[0]["reply"])


def test_no_microphone_offers_typed_conversation(tmp_path: Path) -> None:
    env = {**os.environ, "PULSE_SERVER": f"unix:{tmp_path}/nothing-here",
           "XDG_RUNTIME_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "listen", "--no-speech"],
        input=b"how do i apologise properly\nbye\n", capture_output=True, cwd=ROOT, env=env,
        timeout=60,
    )
    err = result.stderr.decode()
    if "ready:" in err:
        pytest.skip("this machine has a real microphone")
    assert result.returncode == 0, err
    assert "no microphone found" in err and "you can type instead" in err
    assert err.count("type instead") == 1 and "error" not in err  # said once, not an error
    out = result.stdout.decode()
    assert "apology" in out.lower()
    assert "Traceback" not in err
