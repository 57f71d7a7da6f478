"""Where the speech is: the span the recognisers decode, in silence and in steady noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from speech import ESPEAK, synthesize

from assistant.audio.wavio import read_wav
from assistant.speech.stt.activity import SPEECH_MARGIN_S, speech_span

pytestmark = pytest.mark.skipif(ESPEAK is None, reason="needs espeak-ng")

RATE = 16000
REQUESTS = ["how do I start rebuilding trust with my partner after I lied about money",
            "remind me every evening at nine, and keep it short please",
            "what should I say when she asks me why, because I honestly do not know"]


def _voiced_rms(samples: np.ndarray) -> float:  # type: ignore[type-arg]
    frames = np.sqrt(np.mean(samples[: len(samples) // 320 * 320].reshape(-1, 320) ** 2, 1))
    return float(np.sqrt(np.mean(frames[frames >= frames.max() * 10 ** (-30 / 20)] ** 2)))


def _with_noise(pcm: bytes, snr_db: float, seed: int) -> bytes:
    speech = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    noise = np.random.default_rng(seed).standard_normal(len(speech))
    mixed = speech + noise * _voiced_rms(speech) / 10 ** (snr_db / 20)
    return np.clip(np.round(mixed), -32768, 32767).astype("<i2").tobytes()


@pytest.mark.parametrize("snr_db", [20.0, 10.0])
def test_the_span_keeps_the_whole_request_in_steady_noise(tmp_path: Path,
                                                          snr_db: float) -> None:
    """At 10 dB only the loudest vowels stood out, and the span cut at them kept as little as
    a seventh of a request (0.8 s of a 5.5 s one in bench/report.py's noise)."""
    for seed, text in enumerate(REQUESTS):
        pcm = read_wav(synthesize(text, tmp_path / f"{seed}.wav", silence_s=0.4), RATE)
        margin = round(SPEECH_MARGIN_S * RATE) * 2
        clean_start, clean_end = speech_span(pcm)
        clean_start, clean_end = clean_start + margin, clean_end - margin  # the speech itself
        start, end = speech_span(_with_noise(pcm, snr_db, seed))
        kept = (min(end, clean_end) - max(start, clean_start)) / (clean_end - clean_start)
        assert kept >= 0.95, f"{text!r} at {snr_db} dB: {kept:.0%} of the speech kept"


def test_long_silence_around_a_request_is_still_cut_off(tmp_path: Path) -> None:
    pcm = read_wav(synthesize(REQUESTS[0], tmp_path / "r.wav"), RATE)
    quiet = np.random.default_rng(1).normal(0, 3, 3 * RATE).astype("<i2").tobytes()  # a room
    start, end = speech_span(quiet + pcm + quiet)
    assert 2.0 * RATE * 2 <= start <= 3 * RATE * 2, start / RATE / 2
    assert len(quiet) + len(pcm) <= end <= len(quiet) + len(pcm) + RATE * 2, end / RATE / 2


def test_silence_is_empty_and_even_noise_is_kept_whole() -> None:
    assert speech_span(bytes(2 * RATE)) == (0, 0)
    noise = np.random.default_rng(2).normal(0, 2000, 2 * RATE).astype("<i2").tobytes()
    assert speech_span(noise) == (0, len(noise))


def test_over_digital_silence_the_span_is_the_speech_and_its_margin(tmp_path: Path) -> None:
    """Growing the span over silence only adds silence, which spoils PocketSphinx's cepstral
    mean: clean requests lost 7 of 140 in tests/test_spoken.py when it did."""
    pcm = read_wav(synthesize(REQUESTS[1], tmp_path / "r.wav"), RATE)
    pad = bytes(2 * RATE)  # one second
    start, end = speech_span(pad + pcm + pad)
    margin = SPEECH_MARGIN_S + 0.06  # and a frame or two of the voice's own quiet onset
    assert start >= (1.0 - margin) * RATE * 2, start / RATE / 2
    assert end <= len(pad) + len(pcm) + margin * RATE * 2, end / RATE / 2
