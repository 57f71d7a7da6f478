"""Where the speech is in a buffer of 16-bit mono audio, so that the engines which decode a
whole utterance (PocketSphinx, Whisper) can cut off the silence around it.

:func:`speech_span` finds the part that stands out by frame energy. It tells speech from
silence, not from noise: a buffer of even noise is returned whole.
"""

from __future__ import annotations

SAMPLE_RATE = 16000
"""Default rate of the audio (hertz)."""
SPEECH_RISE_DB = 15.0
"""Frames this much louder than the quietest tenth of a buffer count as speech (decibels)."""
SILENT_DB = -65.0
"""Frames quieter than this count as silence whatever the background (dB full scale)."""
SPEECH_MARGIN_S = 0.4
"""Audio kept before the first and after the last speech frame (seconds)."""


def speech_span(pcm: bytes, rate: int = SAMPLE_RATE) -> tuple[int, int]:
    """(start, end) byte offsets of the part of 16-bit mono ``pcm`` holding speech, with
    :data:`SPEECH_MARGIN_S` around it; (0, 0) for silence; the whole buffer when no part
    stands out from the rest.

    Long silence (digital or not) around an utterance spoils PocketSphinx's per-utterance
    cepstral mean, and word errors multiply; decoding only this span avoids that.
    """
    import numpy as np

    frame = rate // 50  # 20 ms
    count = len(pcm) // 2 // frame
    if count < 3:
        return 0, len(pcm) - len(pcm) % 2
    samples = np.frombuffer(pcm[: count * frame * 2], dtype="<i2").astype(np.float64)
    energy = 10 * np.log10(np.mean((samples / 32768.0).reshape(count, frame) ** 2, 1) + 1e-12)
    whole = (0, len(pcm) - len(pcm) % 2)
    loud = energy > max(float(np.percentile(energy, 10)) + SPEECH_RISE_DB, SILENT_DB)
    steady = np.convolve(loud.astype(int), np.ones(3, dtype=int), "same") >= 3
    frames = np.flatnonzero(steady)
    if frames.size == 0:  # silence, or a level too even to tell speech from pauses
        return (0, 0) if float(energy.max()) < SILENT_DB else whole
    margin = int(SPEECH_MARGIN_S * 50)
    first = max(0, int(frames[0]) - margin)
    last = min(count, int(frames[-1]) + 1 + margin)
    return first * frame * 2, whole[1] if last == count else last * frame * 2
