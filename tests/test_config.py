"""Settings are checked as the config file is read: a value that makes no sense is refused
with the setting, the valid range or choices, and what to do."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from assistant.base import config_check
from assistant.base.config import Settings, load_settings, settings_from_dict
from assistant.base.errors import ConfigError
from assistant.cli import main
from assistant.speech import tts


def load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


@pytest.mark.parametrize(("text", "message"), [
    ("matcher: {threshold: 5}",
     "matcher.threshold: 5 is out of range: use a value from 0 to 1 (a confidence)"),
    ("matcher: {threshold: .nan}",
     "matcher.threshold: nan is not a number: use a value from 0 to 1 (a confidence)"),
    ("matcher: {margin: -.inf}",
     "matcher.margin: -inf is out of range: use a value from 0 to 1 (a confidence difference)"),
    ("listen: {follow_up_s: -5}",
     "listen.follow_up_s: -5 is out of range: use a value from 0 to 300 (seconds)"),
    ("tts: {volume: 2}",
     "tts.volume: 2 is out of range: use a value from 0 to 1 (0 is silent, 1 is full volume)"),
    ("tts: {rate: 5000}",
     "tts.rate: 5000 is out of range: use a value from 80 to 450 (words per minute)"),
    ("tts: {rate: true}", "tts.rate: expected a whole number, got True"),
    ("tts: {rate: fast}", "tts.rate: expected a whole number, got 'fast'"),
    ("audio: {block_ms: .inf}", "audio.block_ms: expected a whole number, got inf"),
    ("audio: {block_ms: 0}",
     "audio.block_ms: 0 is out of range: use a value from 10 to 1000 (milliseconds)"),
    ("stt: {engine: klingon}",
     "stt.engine: unknown value 'klingon': use one of auto, pocketsphinx, vosk, whisper"),
    ("engine: sphinx",
     "engine: unknown value 'sphinx': use one of auto, pocketsphinx, vosk, whisper"),
    ("stt: {sample_rate: 100}",
     "stt.sample_rate: 100 is out of range: use a value from 8000 to 48000 (hertz)"),
    ("matcher: {threshold: ~}", "matcher.threshold: expected a number, got None"),
    ("tts: {voice: [a, b]}", "tts.voice: expected text, got ['a', 'b']"),
    ("listen: {wake_phrase: '  '}", "listen.wake_phrase: cannot be empty: give a short phrase"),
    ("language: [en]", "language: ['en'] is not a language code: use one like 'en'"),
    ("intents_dirs: [[a]]", "intents_dirs must be a list of directories"),
    ("matcher: {threshold: &a 0.5, margin: *a}",
     "YAML alias '*a' is not allowed: write the value out in full"),
])
def test_bad_settings_refused_with_the_valid_range(tmp_path: Path, text: str,
                                                   message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    assert str(info.value).replace(str(tmp_path / "config.yaml"), "C").split(": ", 1)[1] \
        == message


def test_edges_of_each_range_are_accepted(tmp_path: Path) -> None:
    for name, (low, high, _) in config_check.RANGES.items():
        section, key = name.split(".")
        for value in (low, high):
            settings = settings_from_dict({section: {key: value}})
            assert getattr(getattr(settings, section), key) == value


def test_defaults_are_within_their_ranges() -> None:
    defaults = Settings()
    for name, (low, high, _) in config_check.RANGES.items():
        section, key = name.split(".")
        assert low <= getattr(getattr(defaults, section), key) <= high, name
    assert config_check.RANGES["tts.rate"][:2] == (tts.MIN_RATE, tts.MAX_RATE)


def test_good_config_still_loads(tmp_path: Path) -> None:
    settings = load(tmp_path, "language: en\nmatcher: {threshold: 0.5}\n"
                              "audio: {input_device: 2}\ntts: {rate: 180.0}\n")
    assert settings.matcher.threshold == 0.5
    assert settings.audio.input_device == "2"
    assert settings.tts.rate == 180
    assert dataclasses.replace(settings, config_file=None).listen == Settings().listen


def test_config_too_large_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    with path.open("wb") as handle:
        handle.truncate(2 * 1024**3)
    with pytest.raises(ConfigError, match=r"too large \(the limit is 1000000 bytes\)"):
        load_settings(path)


def test_unknown_language_names_the_packs_there(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("language: de\n")
    code = main(["ask", "--config", str(path), "hello"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no intent pack for language 'de' in " in err
    assert "(packs there: en): set 'language:' in the config file to one of them" in err
    assert err.count("\n") == 1


def test_unknown_voice_says_how_to_list_voices(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    # (espeak-ng does have a Klingon voice, art/piqd: "klingon" is a known voice there)
    code = main(["say", "--voice", "no-such-voice", "hello", "--out", str(tmp_path / "a.wav")])
    err = capsys.readouterr().err
    assert code == 2
    assert "unknown voice 'no-such-voice' (e.g. " in err
    assert err.rstrip().endswith("list them with: trust-assistant say --list-voices")
    assert not (tmp_path / "a.wav").exists()
