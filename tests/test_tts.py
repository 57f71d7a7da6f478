"""Text-to-speech with the real pyttsx3 + espeak-ng engine, played into the virtual microphone."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from assistant.audio.devices import Audio, Player
from assistant.base.config import AudioSettings, TtsSettings
from assistant.base.errors import AudioError, ConfigError, EngineError
from assistant.speech.tts import (
    MAX_RATE,
    MIN_RATE,
    Pyttsx3Synthesizer,
    Speaker,
    make_synthesizer,
    write_wav,
)
from assistant.speech.tts.base import read_speech_file

if TYPE_CHECKING:
    from vmic import VirtualMic

pytest_plugins = ["vmic"]

pytestmark = [
    pytest.mark.audio,
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed"),
]

SHORT = "Trust grows slowly."
LONG = ("Trust grows slowly, through many small moments in which a promise is kept, a feeling "
        "is heard, and the other person learns that they can rely on you again.")


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if samples.size else 0.0


@pytest.fixture(scope="module")
def synth() -> Pyttsx3Synthesizer:
    return Pyttsx3Synthesizer(rate=165)


# -- synthesis -------------------------------------------------------------------------------


def test_synthesizes_non_silent_16_bit_mono_speech(synth: Pyttsx3Synthesizer) -> None:
    audio = synth.synthesize(SHORT)
    assert audio.sample_rate == 22050
    assert len(audio.pcm) % 2 == 0 and 0.8 < audio.duration_s < 4.0
    samples = audio.samples()
    assert samples.dtype == np.dtype("<i2")
    assert rms(samples) > 500 and np.abs(samples).max() > 5000


def test_duration_grows_with_text_and_shrinks_with_rate(synth: Pyttsx3Synthesizer) -> None:
    short, long = synth.synthesize(SHORT), synth.synthesize(LONG)
    assert long.duration_s > 3 * short.duration_s
    synth.set_rate(110)
    slow = synth.synthesize(LONG)
    synth.set_rate(300)
    fast = synth.synthesize(LONG)
    synth.set_rate(165)
    assert slow.duration_s > 1.2 * long.duration_s > 1.2 * 1.2 * fast.duration_s


def test_volume_scales_the_signal(synth: Pyttsx3Synthesizer) -> None:
    loud = rms(synth.synthesize(SHORT).samples())
    synth.set_volume(0.25)
    quiet = rms(synth.synthesize(SHORT).samples())
    synth.set_volume(1.0)
    assert quiet < 0.5 * loud


def test_rate_is_clamped_and_volume_checked(synth: Pyttsx3Synthesizer) -> None:
    assert synth.set_rate(5) == MIN_RATE
    assert synth.set_rate(10_000) == MAX_RATE
    assert synth.set_rate(165) == synth.rate == 165
    with pytest.raises(ConfigError, match=r"volume must be between 0 and 1, got 1.5"):
        synth.set_volume(1.5)


def test_empty_text_gives_empty_audio(synth: Pyttsx3Synthesizer) -> None:
    assert synth.synthesize("   ").pcm == b""


def test_voices_can_be_chosen_by_id_name_or_language(synth: Pyttsx3Synthesizer) -> None:
    voices = synth.voices()
    assert len(voices) > 10
    assert synth.set_voice("en-us") == "gmw/en-us"
    assert synth.set_voice("English (America)") == "gmw/en-us"
    german = synth.set_voice("de")
    assert german is not None and german.endswith("/de")
    synth.set_voice(None)
    assert synth.voice is None


def test_unknown_voice_is_a_clean_error(synth: Pyttsx3Synthesizer) -> None:
    with pytest.raises(EngineError, match=r"unknown voice 'klingon-xx' \(e\.g\. .*\); list them "
                                          r"with: trust-assistant say --list-voices"):
        synth.set_voice("klingon-xx")
    with pytest.raises(EngineError, match=r"unknown voice"):
        Pyttsx3Synthesizer(voice="no-such-voice")


def test_voice_changes_the_sound(synth: Pyttsx3Synthesizer) -> None:
    synth.set_voice("en-us")
    us = synth.synthesize(SHORT)
    synth.set_voice("de")
    de = synth.synthesize(SHORT)
    synth.set_voice(None)
    assert us.pcm != de.pcm


def test_nothing_on_stdout_and_no_temp_files(
    synth: Pyttsx3Synthesizer, capfd: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    synth.synthesize(SHORT)
    assert capfd.readouterr().out == ""  # pyttsx3 prints "Audio saved to ..." otherwise
    assert list(tmp_path.iterdir()) == []


def test_engine_that_cannot_load_is_a_one_line_error() -> None:
    with pytest.raises(EngineError, match=r"^text-to-speech is unavailable: .*nonexistent") as info:
        Pyttsx3Synthesizer(driver="nonexistent")
    assert "\n" not in str(info.value)


def test_settings_build_the_engine() -> None:
    synth = make_synthesizer(TtsSettings(voice="en-us", rate=200, volume=0.5))
    assert (synth.voice, synth.rate, synth.volume) == ("gmw/en-us", 200, 0.5)


# -- files -----------------------------------------------------------------------------------


def test_write_wav_is_readable(synth: Pyttsx3Synthesizer, tmp_path: Path) -> None:
    audio = synth.synthesize(SHORT)
    path = write_wav(audio, tmp_path / "reply.wav")
    with wave.open(str(path)) as handle:
        assert (handle.getnchannels(), handle.getsampwidth(), handle.getframerate()) == (
            1, 2, 22050)
        assert handle.readframes(handle.getnframes()) == audio.pcm


def test_write_wav_to_a_missing_folder_is_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"cannot write .*reply.wav: No such file"):
        write_wav(Audio(b"\0\0", 16000), tmp_path / "missing" / "reply.wav")


def test_speaker_saves_speech(tmp_path: Path) -> None:
    speaker = Speaker.from_settings(TtsSettings(), AudioSettings())
    path = speaker.save(SHORT, tmp_path / "out.wav")
    with wave.open(str(path)) as handle:
        rate, pcm = handle.getframerate(), handle.readframes(handle.getnframes())
    assert rate == 22050 and rms(np.frombuffer(pcm, "<i2")) > 500


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed")
@pytest.mark.parametrize(("suffix", "args"), [
    (".aiff", ["-b", "16"]), (".wav", ["-b", "8", "-c", "2"]), (".wav", ["-b", "16", "-c", "2"]),
])
def test_engine_output_formats_are_read(synth: Pyttsx3Synthesizer, tmp_path: Path,
                                        suffix: str, args: list[str]) -> None:
    """NSSpeech writes AIFF, other engines other WAV layouts: all become 16-bit mono."""
    audio = synth.synthesize(SHORT)
    source = write_wav(audio, tmp_path / "in.wav")
    converted = tmp_path / f"out{suffix}"
    subprocess.run(["sox", str(source), *args, str(converted)], check=True)
    back = read_speech_file(converted)
    assert back.sample_rate == 22050 and back.frames == audio.frames
    tolerance = 600 if "8" in args else 2  # 8 bits: quantised (and dithered by sox)
    assert np.abs(back.samples().astype(int) - audio.samples().astype(int)).max() <= tolerance


# -- playback (virtual microphone) -----------------------------------------------------------


def _speech_span(path: Path, threshold: int = 800) -> tuple[float, float]:
    """(first, last) time (seconds) the recording is louder than ``threshold``."""
    with wave.open(str(path)) as handle:
        audio = Audio(handle.readframes(handle.getnframes()), handle.getframerate())
    return _span(audio, threshold)


def _span(audio: Audio, threshold: int = 800) -> tuple[float, float]:
    loud = np.nonzero(np.abs(audio.samples()) > threshold)[0]
    rate = audio.sample_rate
    return (loud[0] / rate, loud[-1] / rate) if loud.size else (0.0, 0.0)


@pytest.mark.vmic
def test_playback_is_heard_on_the_virtual_microphone(
    vmic: VirtualMic, synth: Pyttsx3Synthesizer, tmp_path: Path,
) -> None:
    audio = synth.synthesize(SHORT)
    started: list[float] = []
    with vmic.recording(tmp_path / "heard.wav") as path:
        begin = time.monotonic()
        completed = Player().play(audio, on_start=lambda: started.append(time.monotonic()))
        elapsed = time.monotonic() - begin
    assert completed
    assert started and started[0] - begin < 0.5
    assert audio.duration_s - 0.1 < elapsed < audio.duration_s + 1.0
    first, last = _speech_span(path)
    spoken_first, spoken_last = _span(audio)
    assert abs((last - first) - (spoken_last - spoken_first)) < 0.1  # all of it, tail included


@pytest.mark.vmic
def test_stop_from_another_thread_cuts_speech_at_once(
    vmic: VirtualMic, synth: Pyttsx3Synthesizer, tmp_path: Path,
) -> None:
    audio = synth.synthesize(LONG + " " + LONG)
    assert audio.duration_s > 15
    player = Player()
    timer = threading.Timer(1.0, player.stop)
    with vmic.recording(tmp_path / "heard.wav") as path:
        begin = time.monotonic()
        timer.start()
        completed = player.play(audio)
        elapsed = time.monotonic() - begin
        time.sleep(0.5)
    assert not completed
    assert 0.9 < elapsed < 1.3, elapsed
    first, last = _speech_span(path)
    assert 0.3 < last - first < 1.6  # silence right after the stop
    assert not player.playing


@pytest.mark.vmic
def test_speaker_speaks_on_a_named_output_device(vmic: VirtualMic, tmp_path: Path) -> None:
    speaker = Speaker.from_settings(TtsSettings(rate=220), AudioSettings(output_device="pulse"))
    with vmic.recording(tmp_path / "heard.wav") as path:
        assert speaker.speak(SHORT)
    first, last = _speech_span(path)
    assert last - first > 0.5


@pytest.mark.vmic
def test_unknown_output_device_is_a_clean_error(vmic: VirtualMic,
                                                synth: Pyttsx3Synthesizer) -> None:
    with pytest.raises(AudioError, match=r"no audio output device matches 'hdmi-99'; output "
                                         r"devices: .*'pulse'.*\(give an index or part of a name"):
        Player("hdmi-99").play(synth.synthesize(SHORT))


@pytest.mark.vmic
def test_a_stopped_stream_leaves_no_speech_being_made(vmic: VirtualMic) -> None:
    """Stopped while the next sentence is being made, playing waits for that sentence: a voice
    left running native code on a daemon thread aborted the process at exit (Piper's
    onnxruntime, "terminate called without an active exception")."""
    tone = Audio((np.sin(np.arange(16000) / 5) * 8000).astype("<i2").tobytes(), 16000)
    making = threading.Event()
    made: list[float] = []

    def chunks() -> Iterator[Audio]:
        yield tone
        making.set()
        time.sleep(1.0)  # a sentence being synthesised
        made.append(time.monotonic())
        yield tone

    player = Player()
    stopper = threading.Thread(target=lambda: (making.wait(5), player.stop()))
    stopper.start()
    completed = player.play_stream(chunks())
    returned = time.monotonic()
    stopper.join()
    assert not completed
    assert made and made[0] <= returned, "play_stream returned while a chunk was being made"
    assert not any(t.name == "speech-chunks" and t.is_alive() for t in threading.enumerate())
