"""End-of-speech detection on real (synthesised) speech with silence around it."""

from __future__ import annotations

from pathlib import Path

import pytest
from speech import speak

from assistant.audio.segmenter import Event, Segmenter, SegmenterSettings

RATE = 16000


def silence(seconds: float) -> bytes:
    return b"\0\0" * int(seconds * RATE)


def run(segmenter: Segmenter, pcm: bytes, block: int = 3200) -> list[tuple[Event, float]]:
    """(event, time in seconds) for each START / END in ``pcm`` fed in ``block``-byte pieces."""
    events = []
    for offset in range(0, len(pcm), block):
        for segment in segmenter.push(pcm[offset : offset + block]):
            if segment.event is not Event.AUDIO:
                events.append((segment.event, (offset + block) / 2 / RATE))
    return events


@pytest.mark.audio
def test_one_utterance_with_silence_around(tmp_path: Path) -> None:
    speech = speak("how do I start rebuilding trust", tmp_path)
    events = run(Segmenter(), silence(1.5) + speech + silence(2.0))
    assert [e for e, _ in events] == [Event.START, Event.END]
    start, end = events[0][1], events[1][1]
    speech_s = len(speech) / 2 / RATE
    assert 1.4 <= start <= 1.9
    assert 1.5 + speech_s + 0.5 <= end <= 1.5 + speech_s + 1.3


@pytest.mark.audio
def test_audio_of_the_utterance_is_complete(tmp_path: Path) -> None:
    speech = speak("tell me more", tmp_path)
    collected = b""
    for segment in Segmenter().push(silence(1.0) + speech + silence(1.5)):
        collected += segment.pcm
    # the pre-roll keeps the onset; the end keeps the trailing silence that ended it
    assert len(speech) <= len(collected) <= len(speech) + int(1.3 * RATE * 2)


@pytest.mark.audio
def test_pauses_shorter_than_the_end_silence_stay_in_one_utterance(tmp_path: Path) -> None:
    first = speak("I think I need to be more honest", tmp_path)
    second = speak("and more patient with her", tmp_path)
    pcm = silence(0.5) + first + silence(1.5) + second + silence(3.0)
    short = run(Segmenter(SegmenterSettings(end_silence_s=0.8)), pcm)
    long = run(Segmenter(SegmenterSettings(end_silence_s=2.5)), pcm)
    assert [e for e, _ in short] == [Event.START, Event.END, Event.START, Event.END]
    assert [e for e, _ in long] == [Event.START, Event.END]


def test_silence_and_clicks_are_not_speech() -> None:
    click = (b"\xff\x7f\x00\x80" * 40)  # 10 ms of full-scale square wave
    events = run(Segmenter(), silence(1.0) + click + silence(1.0))
    assert events == []


@pytest.mark.audio
def test_longest_utterance_is_cut(tmp_path: Path) -> None:
    speech = speak("this is a long answer " * 6, tmp_path)
    events = run(Segmenter(SegmenterSettings(max_utterance_s=2.0)), speech)
    assert events[0][0] is Event.START and events[1][0] is Event.END
    assert events[1][1] - events[0][1] <= 2.3
