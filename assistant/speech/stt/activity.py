"""Where the speech is in a buffer of 16-bit mono audio, so that the engines which decode a
whole utterance (PocketSphinx, Whisper) can cut off the silence around it.

:func:`speech_span` finds the part that stands out by frame energy, then grows it over the
speech around it that stands out less (in noise). It tells speech from silence, not from
noise: a buffer of even noise is returned whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16000
"""Default rate of the audio (hertz)."""
SPEECH_RISE_DB = 15.0
"""Frames this much louder than the quietest tenth of a buffer count as speech (decibels)."""
SILENT_DB = -65.0
"""Frames quieter than this count as silence whatever the background (dB full scale)."""
SPEECH_MARGIN_S = 0.4
"""Audio kept before the first and after the last speech frame (seconds)."""
EXTEND_DB = 4.0
"""From the frames that stand out, the span grows while the level, averaged over
:data:`EXTEND_S`, stays this much above the quietest tenth: in steady noise (a fan, a
kitchen) only the loudest vowels stand out by :data:`SPEECH_RISE_DB`, and the span cut at
them lost most of each request (decibels)."""
EXTEND_S = 0.5


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
    floor = float(np.percentile(energy, 10))
    loud = energy > max(floor + SPEECH_RISE_DB, SILENT_DB)
    steady = np.convolve(loud.astype(int), np.ones(3, dtype=int), "same") >= 3
    frames = np.flatnonzero(steady)
    if frames.size == 0:  # silence, or a level too even to tell speech from pauses
        return (0, 0) if float(energy.max()) < SILENT_DB else whole
    first, last = int(frames[0]), int(frames[-1])
    if floor > SILENT_DB:  # over silence, every audible frame already stood out
        first, last = _grow(energy, floor, first, last)
    margin = int(SPEECH_MARGIN_S * 50)
    first = max(0, first - margin)
    last = min(count, last + 1 + margin)
    return first * frame * 2, whole[1] if last == count else last * frame * 2


def _grow(level: np.ndarray, floor: float, first: int, last: int) -> tuple[int, int]:
    """Frames ``first``..``last`` grown outwards while the level averaged over
    :data:`EXTEND_S` stays :data:`EXTEND_DB` over ``floor``. The average reaches half a window
    past where the speech ends; that half is taken back."""
    import numpy as np

    width = max(1, round(EXTEND_S * 50))
    average = 10 * np.log10(np.convolve(10 ** (level / 10), np.ones(width) / width, "same"))
    above = average > floor + EXTEND_DB
    start, end = first, last
    while start > 0 and above[start - 1]:
        start -= 1
    while end < len(level) - 1 and above[end + 1]:
        end += 1
    return min(first, start + width // 2), max(last, end - width // 2)
