"""The Piper voice for real, the engine registry, and the text as it is read aloud."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.audio.devices import Audio
from assistant.audio.echo import EchoReference
from assistant.base.config import TtsSettings, settings_from_dict
from assistant.base.errors import ConfigError, EngineError
from assistant.speech import tts
from assistant.speech.tts import piper
from assistant.speech.tts.text import clean, sentences

ROOT = Path(__file__).resolve().parent.parent

needs_piper = pytest.mark.skipif(not piper.available(), reason="Piper is not installed")

TWO = "Trust grows slowly. Keep one small promise this week."


@pytest.fixture(scope="module")
def voice() -> piper.PiperSynthesizer:
    return piper.PiperSynthesizer()


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if samples.size else 0.0


def loud_frames(audio: Audio, threshold: int = 200) -> np.ndarray:
    """Whether each 10 ms frame of ``audio`` is louder than ``threshold`` (RMS)."""
    frame = audio.sample_rate // 100
    samples = audio.samples()[: audio.frames // frame * frame].astype(np.float64)
    return np.asarray(np.sqrt((samples.reshape(-1, frame) ** 2).mean(axis=1)) > threshold)


def trailing_silence_s(audio: Audio) -> float:
    loud = loud_frames(audio)
    return (len(loud) - 1 - int(np.flatnonzero(loud)[-1])) / 100


def longest_silence_s(audio: Audio) -> float:
    """The longest quiet stretch of ``audio`` between its first and last sound (seconds)."""
    loud = loud_frames(audio)
    sounds = np.flatnonzero(loud)
    longest = run = 0
    for is_loud in loud[sounds[0]:sounds[-1]]:
        run = 0 if is_loud else run + 1
        longest = max(longest, run)
    return longest / 100


# -- the text as it is read ------------------------------------------------------------------


@pytest.mark.parametrize(("text", "said"), [
    ("Your reflection is at 21:00.", "Your reflection is at 9 p m."),
    ("At 8:30 am, or 9:05 p.m. then.", "At 8 30 a m, or 9 oh 5 p m then."),
    ("See you at 12:00 or 0:00.", "See you at noon or midnight."),
    ("Call 988, or Samaritans on 116 123.", "Call 9 8 8, or Samaritans on 1 1 6, 1 2 3."),
    ("Lifeline on 13 11 14, in 1995 and 2003.", "Lifeline on 13 11 14, in 1995 and 2003."),
    ("**Take** your _time_ # here", "Take your time here"),
    ("<b>Breathe</b> \u2014 slowly\u2026", "Breathe, slowly."),
    ("He/she & you: 50% [of](https://example.org) it.", "He or she and you: 50 percent of it."),
    ("\u201cSorry\u201d isn't enough ~ {really}.", "Sorry isn't enough really."),
])
def test_text_is_cleaned_for_reading(text: str, said: str) -> None:
    assert clean(text) == said


@pytest.mark.parametrize(("text", "parts"), [
    (TWO, ["Trust grows slowly.", "Keep one small promise this week."]),
    ("Okay! Is it? Yes.", ["Okay!", "Is it?", "Yes."]),
    ("J. L. Winek and Dr. Craven wrote it. Then", ["J. L. Winek and Dr. Craven wrote it.",
                                                  "Then"]),
    ("It is 21:00. Sleep well.", ["It is 9 p m.", "Sleep well."]),
    ("  ** ", []),
])
def test_text_is_split_into_sentences(text: str, parts: list[str]) -> None:
    assert sentences(text) == parts


@pytest.mark.parametrize(("sentence", "clause"), [
    ("If you let a friend down, for example by sharing a secret, say so.",
     "If you let a friend down,"),
    ("Yes, trust can be rebuilt, even after real hurt.", "Yes,"),
    ("All right, I will stop.", None),  # short: said whole
    ("Trust grows step by step as you feel safer with each other.", None),  # no clause
])
def test_a_long_first_sentence_starts_with_its_first_clause(sentence: str,
                                                              clause: str | None) -> None:
    from assistant.speech.tts.base import first_clause

    assert first_clause(sentence) == clause


# -- the registry ----------------------------------------------------------------------------


@needs_piper
def test_auto_is_piper_when_installed() -> None:
    choice = tts.choose_engine(TtsSettings())
    assert (choice.engine, choice.note) == ("piper", None)
    assert tts.choose_engine(TtsSettings(voice="joe")).engine == "piper"


def test_auto_falls_back_to_espeak_when_piper_is_missing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "piper" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    choice = tts.choose_engine(TtsSettings())
    assert choice.engine == "pyttsx3"
    assert choice.note is not None and "\n" not in choice.note and "Piper" in choice.note
    synth = tts.make_synthesizer(TtsSettings())
    assert isinstance(synth, tts.Pyttsx3Synthesizer)
    assert rms(synth.synthesize("Hello there.").samples()) > 500


def test_the_fallback_note_is_one_line_on_stderr(tmp_path: Path) -> None:
    """The command line, with Piper hidden from the import system: espeak-ng speaks, and
    says why in one line."""
    hide = ("import importlib.util, sys; real = importlib.util.find_spec; "
            "importlib.util.find_spec = lambda n, *a: None if n == 'piper' else real(n, *a); "
            "from assistant.cli import main; sys.exit(main(sys.argv[1:]))")
    out = tmp_path / "espeak.wav"
    result = subprocess.run([sys.executable, "-c", hide, "say", "Hello there.", "--out",
                             str(out)], capture_output=True, cwd=ROOT, env=os.environ,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("trust-assistant: note: "), lines
    assert out.stat().st_size > 10_000


def test_an_espeak_voice_from_an_older_config_keeps_espeak() -> None:
    settings = settings_from_dict({"tts": {"voice": "gmw/en-us", "rate": 165}})
    assert settings.tts.engine == "auto"
    assert tts.choose_engine(settings.tts).engine == "pyttsx3"
    assert tts.make_synthesizer(settings.tts).voice == "gmw/en-us"


@pytest.mark.parametrize(("yaml_tts", "message"), [
    ({"engine": "flite"}, "tts.engine: unknown value 'flite': use one of auto, piper, "
                          "pyttsx3, festival"),
    ({"engine": 3}, "tts.engine: unknown value '3': use one of auto, piper, pyttsx3, festival"),
])
def test_unknown_engine_is_refused_when_the_config_is_read(yaml_tts: dict[str, Any],
                                                           message: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings_from_dict({"tts": yaml_tts})
    assert str(info.value).endswith(message) and "\n" not in str(info.value)


@needs_piper
@pytest.mark.parametrize("engine", ["piper", "auto"])
def test_unknown_voice_is_a_one_line_error(engine: str) -> None:
    with pytest.raises(EngineError) as info:
        tts.make_synthesizer(TtsSettings(engine=engine, voice="klingon-xx"))
    message = str(info.value)
    assert message.startswith("unknown voice 'klingon-xx' (e.g. ") and "\n" not in message
    assert "say --list-voices" in message


# -- Piper -----------------------------------------------------------------------------------


@needs_piper
def test_say_with_piper_writes_a_wav_of_speech(tmp_path: Path) -> None:
    from assistant.speech.stt.whisper import WhisperRecognizer

    out = tmp_path / "reply.wav"
    result = subprocess.run(
        [sys.executable, "-m", "assistant", "say", "Your journal is on. Take your time.",
         "--out", str(out)], capture_output=True, cwd=ROOT, env=os.environ, timeout=60)
    assert result.returncode == 0 and result.stderr == b"", result.stderr
    with wave.open(str(out)) as handle:
        assert (handle.getnchannels(), handle.getsampwidth(), handle.getframerate()) == (
            1, 2, 22050)
        audio = Audio(handle.readframes(handle.getnframes()), 22050)
    assert 1.5 < audio.duration_s < 6 and rms(audio.samples()) > 1000
    heard = WhisperRecognizer().transcribe(audio.resampled(16000).pcm, "open").text
    assert heard == "your journal is on take your time", heard


@needs_piper
def test_list_voices_has_piper_and_espeak() -> None:
    found = tts.list_voices(TtsSettings())
    assert found[0] == ("piper", piper.bundled_voices()[0].voice)
    assert found[0][1].id == "en_US-joe-medium"
    assert any(engine == "pyttsx3" and v.id == "gmw/en-us" for engine, v in found)


@needs_piper
def test_rate_sets_the_length_of_piper_speech(voice: piper.PiperSynthesizer) -> None:
    text = "Trust is rebuilt in small steps, one kept promise at a time."
    voice.set_rate(120)
    slow = voice.synthesize(text)
    voice.set_rate(240)
    fast = voice.synthesize(text)
    voice.set_rate(165)
    assert slow.duration_s > 1.4 * fast.duration_s  # 2x the phonemes; pauses stay as long
    assert voice.set_rate(10) == piper.MIN_RATE and voice.set_rate(10_000) == piper.MAX_RATE
    voice.set_rate(165)


@needs_piper
def test_piper_speaks_sentence_by_sentence_with_a_pause(voice: piper.PiperSynthesizer) -> None:
    chunks = list(voice.stream(TWO))
    assert len(chunks) == 2
    first, second = chunks
    assert trailing_silence_s(first) >= tts.PAUSE_S  # the pause after the first sentence
    assert trailing_silence_s(second) < 0.06  # the engine's own silence is cut
    whole = voice.synthesize(TWO)
    assert whole.frames == pytest.approx(first.frames + second.frames, rel=0.15)  # noise: not exact
    assert 0.15 <= longest_silence_s(whole) <= 0.3
    single = voice.synthesize("Trust grows slowly.")
    assert longest_silence_s(single) < 0.15
    clauses = list(voice.stream("Yes, trust can be rebuilt, even after real hurt. Slowly."))
    assert len(clauses) == 3 and clauses[0].duration_s < 0.8 * clauses[1].duration_s


@needs_piper
def test_piper_volume_and_empty_text(voice: piper.PiperSynthesizer) -> None:
    loud = rms(voice.synthesize("Take your time.").samples())
    voice.set_volume(0.25)
    quiet = rms(voice.synthesize("Take your time.").samples())
    voice.set_volume(1.0)
    assert quiet < 0.35 * loud
    assert voice.synthesize(" ** ").pcm == b""
    assert list(voice.stream("")) == []


@needs_piper
def test_the_model_is_loaded_once(voice: piper.PiperSynthesizer) -> None:
    again = piper.PiperSynthesizer(rate=200)
    assert again._model is voice._model


# -- the echo canceller's reference ----------------------------------------------------------


def test_echo_reference_keeps_the_length_of_what_is_played() -> None:
    """Played in pieces at 22050 Hz (sentences and the silence while one is synthesised),
    the reference at 16 kHz is as long as all of it, to the sample, whatever the pieces."""
    from assistant.audio.echo import EchoCanceller

    echo = EchoCanceller(lambda: None, 16000)
    echo.play(b"", 0.0)
    reference = EchoReference(16000)
    sizes = [22050 * 2 + 7, 1103, 441, 22050 + 1, 3]
    rng = np.random.default_rng(1)
    for size in sizes:
        reference.put(Audio(rng.integers(-3000, 3000, size).astype("<i2").tobytes(), 22050))
        reference.feed(echo)
    assert len(echo._reference) == round(sum(sizes) * 16000 / 22050)
    assert reference.queued_s == pytest.approx(sum(sizes) / 22050)
