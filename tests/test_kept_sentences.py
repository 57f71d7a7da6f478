"""The sentences the assistant can say are made once per voice and read back after; nothing
else is written down."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from assistant.audio.devices import Audio
from assistant.speech.tts import piper
from assistant.speech.tts.rendered import KeptSentences, pieces

needs_piper = pytest.mark.skipif(not piper.available(), reason="Piper is not installed")
REPLY = ("Trust grows back slowly, through small promises kept. Keep the next one, however "
         "small, and say when you have kept it.")


@pytest.fixture(scope="module")
def voice() -> piper.PiperSynthesizer:
    return piper.PiperSynthesizer()


class Counting:
    """The real voice, counting what it is asked to make."""

    def __init__(self, voice: piper.PiperSynthesizer) -> None:
        self.voice = voice
        self.made: list[str] = []

    def __call__(self, sentence: str) -> Audio:
        self.made.append(sentence)
        return self.voice.speak_sentence(sentence)


def test_pieces_are_what_a_sentence_voice_speaks() -> None:
    long = ("If you let a friend down, the repair starts with saying so plainly, without "
            "excuses, and then showing it over the weeks that follow. That is all.")
    found = pieces(long)
    assert "That is all." in found
    assert "If you let a friend down," in found  # the first clause, spoken on its own


@needs_piper
def test_a_known_reply_is_made_once_then_read_back(voice: piper.PiperSynthesizer,
                                                   tmp_path: Path) -> None:
    kept = KeptSentences([REPLY], tmp_path)
    voice.kept = kept
    try:
        first = voice.synthesize(REPLY)
        files = sorted(tmp_path.glob("*.flac"))
        assert files and kept.made == len(files)
        counting = Counting(voice)
        voice.speak_sentence = counting  # type: ignore[method-assign]
        again = voice.synthesize(REPLY)
        assert counting.made == []  # nothing made again
        assert again == first  # lossless: the same samples
    finally:
        voice.kept = None
        vars(voice).pop("speak_sentence", None)


@needs_piper
def test_what_the_person_said_is_never_written_down(voice: piper.PiperSynthesizer,
                                                    tmp_path: Path) -> None:
    voice.kept = KeptSentences([REPLY], tmp_path)
    try:
        voice.synthesize("You wrote that you miss her laugh. Trust grows back slowly, "
                         "through small promises kept.")
        kept = voice.kept
        assert isinstance(kept, KeptSentences)
        assert kept.made == 1  # only the known sentence
        assert len(list(tmp_path.glob("*.flac"))) == 1
    finally:
        voice.kept = None


@needs_piper
def test_another_rate_is_another_recording(voice: piper.PiperSynthesizer,
                                           tmp_path: Path) -> None:
    voice.kept = KeptSentences([REPLY], tmp_path)
    rate = voice.rate
    try:
        normal = voice.synthesize(REPLY)
        voice.set_rate(rate - 40)
        slower = voice.synthesize(REPLY)
        assert slower.duration_s > normal.duration_s * 1.1
    finally:
        voice.set_rate(rate)
        voice.kept = None


@needs_piper
def test_a_voice_file_replaced_under_the_same_id_is_recorded_again(tmp_path: Path) -> None:
    import os
    import shutil

    source = piper.bundled_voices()[0]
    model = tmp_path / "voices" / source.model.name
    model.parent.mkdir()
    shutil.copy(source.model, model)
    shutil.copy(source.config, model.with_name(model.name + ".json"))
    voice = piper.PiperSynthesizer(str(model))
    kept = KeptSentences([REPLY], tmp_path / "kept")
    voice.kept = kept
    voice.synthesize(REPLY)
    made = kept.made
    voice.synthesize(REPLY)
    assert kept.made == made, "a known sentence was made again"
    later = model.stat().st_mtime_ns + 5_000_000_000
    os.utime(model, ns=(later, later))  # the voice file replaced (a newer download)
    voice.synthesize(REPLY)
    assert kept.made > made, "the replaced voice's sentences were read from the old recordings"


@needs_piper
def test_a_damaged_or_unwritable_store_only_costs_time(
    voice: piper.PiperSynthesizer, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    kept = KeptSentences([REPLY], tmp_path / "voice")
    voice.kept = kept
    try:
        first = voice.synthesize(REPLY)
        for path in (tmp_path / "voice").glob("*.flac"):
            path.write_bytes(b"not flac")
        with caplog.at_level(logging.WARNING):
            remade = voice.synthesize(REPLY)  # made again (Piper varies a little each time)
        assert abs(remade.duration_s - first.duration_s) < 0.25 * first.duration_s
        assert "could not be read" in caplog.text
        blocked = tmp_path / "file"
        blocked.write_text("")
        voice.kept = KeptSentences([REPLY], blocked)
        with caplog.at_level(logging.WARNING):
            assert voice.synthesize(REPLY).duration_s > 1
        assert "cannot be kept" in caplog.text
    finally:
        voice.kept = None
