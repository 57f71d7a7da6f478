"""The voice loop on real speech without a sound server: the real recogniser and dialog hear
an espeak-ng recording fed in as microphone blocks (then silence, at the pace of a real
microphone), so the loop's own decisions can be checked exactly, run after run."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest
from speech import synthesize

from assistant.app.assistant import recognizer_for
from assistant.app.runtime import make_dialog
from assistant.audio.wavio import read_wav
from assistant.base.config import Settings
from assistant.cli.terminal import TerminalEvents
from assistant.loop.events import Utterance
from assistant.loop.listen import VoiceLoop

pytestmark = pytest.mark.audio

BLOCK = 3200
"""100 ms of 16 kHz 16-bit mono."""


class RecordedMicrophone:
    """Stands in for the sound device only: serves ``pcm`` in 100 ms blocks as fast as they
    are read (a person speaking after the prompt), then silence in real time."""

    sample_rate = 16000

    def __init__(self, pcm: bytes) -> None:
        self.pcm = pcm
        self.position = 0
        self.silence_served_s = 0.0

    def read(self, timeout: float | None = None) -> bytes | None:
        if self.position < len(self.pcm):
            block = self.pcm[self.position:self.position + BLOCK].ljust(BLOCK, b"\0")
            self.position += BLOCK
            return block
        time.sleep(0.1)
        self.silence_served_s += 0.1
        return bytes(BLOCK)

    def flush(self) -> int:
        return 0  # what is still to come has not been said yet


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="module")
def loop_parts(settings: Settings) -> tuple[object, object]:
    dialog = make_dialog(settings)
    return dialog, recognizer_for(settings, dialog.pack)


def spoken(tmp_path: Path, *phrases: str, pause_s: float = 1.3,
           voice: str = "en-us+f2") -> bytes:
    """The phrases with ``pause_s`` of silence between them, in a voice whose "I am done" the
    recogniser hears from every sample offset (not so in every espeak-ng voice)."""
    parts = [read_wav(synthesize(text, tmp_path / f"{i}.wav", voice, 175))
             for i, text in enumerate(phrases)]
    gap = bytes(int(pause_s * 16000) * 2)
    return gap + gap.join(parts)


def reflect(loop_parts: tuple[object, object], settings: Settings, pcm: bytes,
            capsys: pytest.CaptureFixture[str]) -> tuple[list[dict[str, object]],
                                                        RecordedMicrophone]:
    dialog, recognizer = loop_parts
    dialog.end_reflection()  # type: ignore[attr-defined]
    mic = RecordedMicrophone(pcm)
    loop = VoiceLoop(dialog, recognizer, mic, None, settings.listen,  # type: ignore[arg-type]
                     wake="always", events=TerminalEvents(as_json=True))
    loop.reflect_now()
    turns = [json.loads(line) for line in capsys.readouterr().out.splitlines()
             if line.startswith("{")]
    return turns, mic


def test_an_answer_with_a_pause_then_i_am_done(
    loop_parts: tuple[object, object], settings: Settings, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The answer is heard phrase by phrase; "I am done" after a pause ends it at once."""
    pcm = spoken(tmp_path, "I want to listen to her without getting defensive", "I am done")
    turns, mic = reflect(loop_parts, settings, pcm, capsys)
    # the prompt, then the answer kept (an answer has no intent of its own)
    assert [t["intent"] for t in turns] == ["reflection_prompt", None], turns
    answer = str(turns[1]["text"])
    assert set(answer.split()) & {"listen", "defensive", "without", "getting"}, answer
    assert "done" not in answer.split(), answer
    # ended by "I am done" at once, not by the answer's end silence (2.5 s) or more
    assert mic.silence_served_s < settings.listen.answer_silence_s, mic.silence_served_s


def test_a_long_silence_in_the_audio_ends_the_answer(
    loop_parts: tuple[object, object], settings: Settings, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Silence counts as the audio the microphone delivered, not only as the clock: a backlog
    served at once (here the whole recording) with 9 s of silence in it ends the answer there,
    and what comes after is a new request (the long soak stopped answering at its first
    reflection: the answer never ended)."""
    pcm = spoken(tmp_path, "I want to listen to her without getting defensive",
                 "how do i say sorry properly", pause_s=9.0)
    turns, mic = reflect(loop_parts, settings, pcm, capsys)
    assert [t["intent"] for t in turns] == ["reflection_prompt", None], turns
    assert "sorry" not in str(turns[1]["text"]).split(), turns[1]
    assert mic.position < len(pcm)  # the next request was not taken into the answer


def test_an_answer_that_never_falls_silent_is_kept_at_its_longest(
    loop_parts: tuple[object, object], settings: Settings, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A room that never falls silent (a television) cannot hold the answer open: after
    ``answer_max_s`` of speech the answer is kept as it is."""
    dialog, recognizer = loop_parts
    dialog.end_reflection()  # type: ignore[attr-defined]
    pcm = spoken(tmp_path, *["I want to listen to her without getting defensive"] * 8)
    mic = RecordedMicrophone(pcm)
    listen = dataclasses.replace(settings.listen, answer_max_s=10.0)
    loop = VoiceLoop(dialog, recognizer, mic, None, listen,  # type: ignore[arg-type]
                     wake="always", events=TerminalEvents(as_json=True))
    loop.reflect_now()
    turns = [json.loads(line) for line in capsys.readouterr().out.splitlines()
             if line.startswith("{")]
    assert [t["intent"] for t in turns] == ["reflection_prompt", None], turns
    assert "listen to her" in str(turns[1]["text"]), turns[1]
    assert mic.position < len(pcm) * 0.75, (mic.position, len(pcm))


def test_skip_ends_the_session_without_an_answer(
    loop_parts: tuple[object, object], settings: Settings, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    turns, mic = reflect(loop_parts, settings, spoken(tmp_path, "skip it", voice="en-us+m3"),
                         capsys)
    assert [t["intent"] for t in turns] == ["reflection_prompt", "skip_prompt"], turns
    assert mic.silence_served_s < 1.0  # nothing more was waited for


def test_what_said_over_a_reply_only_stops_it(
    loop_parts: tuple[object, object], settings: Settings, capsys: pytest.CaptureFixture[str],
) -> None:
    dialog, recognizer = loop_parts
    loop = VoiceLoop(dialog, recognizer, RecordedMicrophone(b""), None,  # type: ignore[arg-type]
                     settings.listen, wake="always", events=TerminalEvents(as_json=True))
    assert not dialog.asked_a_question  # type: ignore[attr-defined]
    assert loop._interruption("okay", 0.9)
    assert json.loads(capsys.readouterr().out)["intent"] == "stop"
    assert not loop._interruption("how do i apologise properly", 0.9)  # a request of its own
    # a clipped "stop" the recogniser was unsure of, heard as a request: only a stop
    assert loop._interruption("what can you help with", 0.15)
    # ... but danger is never taken for an interruption, however unsure
    assert not loop._interruption("he hits me", 0.15)
    dialog.state.offer_prompt_for = "sincere_apology"  # type: ignore[attr-defined]
    try:
        assert not loop._interruption("yes", 0.9)  # the reply offered a prompt: "yes" takes it
    finally:
        dialog.state.offer_prompt_for = None  # type: ignore[attr-defined]


def test_the_wake_phrase_alone_is_a_greeting_when_every_utterance_is_a_request(
    loop_parts: tuple[object, object], settings: Settings,
) -> None:
    """With ``wake: always`` "hi coach" is answered as a greeting (the soak's one unanswered
    request); with the wake phrase it only opens the turn."""
    dialog, recognizer = loop_parts
    heard = Utterance("hi coach", 1.0, time.monotonic())
    always = VoiceLoop(dialog, recognizer, RecordedMicrophone(b""), None,  # type: ignore[arg-type]
                       settings.listen, wake="always")
    assert always._addressed(heard) == "hi coach"
    assert dialog.handle("hi coach").intent == "greeting"  # type: ignore[attr-defined]
    woken = VoiceLoop(dialog, recognizer, RecordedMicrophone(b""), None,  # type: ignore[arg-type]
                      settings.listen, wake="wake")
    assert woken._addressed(heard) is None


def _whisper_calls(recognizer: object, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Lengths (bytes) of the audio the second engine is asked to read, in order; a negative
    number for the whole request when the loop asks for its second reading."""
    from assistant.speech.stt.twopass import TwoPassRecognizer

    if not isinstance(recognizer, TwoPassRecognizer):
        pytest.skip("needs Whisper beside the phrase engine")
    whisper = recognizer.whisper
    read = whisper.transcribe
    calls: list[int] = []

    def counted(pcm: bytes, mode: str = "command") -> object:
        calls.append(len(pcm))
        return read(pcm, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(whisper, "transcribe", counted)
    refine = recognizer.refine

    def refined(pcm: bytes, first: object) -> object:
        calls.append(-len(pcm))
        return refine(pcm, first)  # type: ignore[arg-type]

    monkeypatch.setattr(recognizer, "refine", refined)
    return calls


def _one_request(loop_parts: tuple[object, object], settings: Settings, pcm: bytes,
                 capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    dialog, recognizer = loop_parts
    dialog.end_reflection()  # type: ignore[attr-defined]
    dialog.state = type(dialog.state)()  # type: ignore[attr-defined]
    loop = VoiceLoop(dialog, recognizer, RecordedMicrophone(pcm), None,  # type: ignore[arg-type]
                     settings.listen, wake="always", events=TerminalEvents(as_json=True))
    loop.run(turns=1, timeout_s=20)
    turns = [json.loads(line) for line in capsys.readouterr().out.splitlines()
             if line.startswith("{")]
    assert len(turns) == 1, turns
    return turns[0]


def test_whisper_reads_a_request_at_its_pause_and_is_not_asked_again(
    loop_parts: tuple[object, object], settings: Settings, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whisper starts on a request at the short pause after it, while the loop waits out the
    end-of-speech silence; its reading then answers the request, not a second decode."""
    calls = _whisper_calls(loop_parts[1], monkeypatch)
    pcm = spoken(tmp_path, "i lied about where i was so how do i tell my wife", pause_s=0.3)
    turn = _one_request(loop_parts, settings, pcm, capsys)
    assert {"lied", "wife"} <= set(str(turn["text"]).split()) and turn["intent"], turn
    # read once, at the pause, before the loop asked for the second reading (the request
    # ended there when the phrase model already heard a whole request, else 0.5 s later)
    assert len(calls) == 2 and 0 < calls[0] <= -calls[1], calls


def test_speech_after_the_pause_is_read_with_the_rest(
    loop_parts: tuple[object, object], settings: Settings, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pause mid-request (longer than the short pause, shorter than the end): what Whisper
    read at it is not the request; the request is read again with its second half."""
    calls = _whisper_calls(loop_parts[1], monkeypatch)
    pause = max(settings.listen.early_end_s or 0.3, 0.3) + 0.2
    parts = [read_wav(synthesize(text, tmp_path / f"p{i}.wav", "en-us", 165))
             for i, text in enumerate(["i want to know", "how long rebuilding trust takes"])]
    gap = bytes(int(pause * 16000) * 2)
    turn = _one_request(loop_parts, settings, bytes(8000) + parts[0] + gap + parts[1], capsys)
    assert {"long", "takes"} & set(str(turn["text"]).split()), turn
    reads = [n for n in calls if n > 0]  # read again at the pause after the second part
    assert len(reads) >= 2 and reads[-1] > reads[0], calls
