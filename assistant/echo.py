"""Removing the assistant's own voice from the microphone while it speaks.

A microphone near the speaker hears every reply. WebRTC's echo canceller (AEC3, through the
``pywebrtc-audio`` package) subtracts what is being played from what is heard, so the voice
loop can notice a person talking over a reply (barge-in) without mistaking the reply itself
for a request. Without the package (a platform with no wheel), :func:`make_echo_canceller`
returns None and the loop simply does not listen while it speaks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

FRAME_S = 0.01
"""The canceller works on 10 ms frames."""
REFERENCE_LEAD_S = 0.12
"""Each microphone block is paired with reference audio this much further into the reply than
the clock suggests, so the reference always comes before its echo: the canceller can only
remove echo that follows its reference, and a block read late would otherwise pair it with
reference audio whose echo was already heard."""
MIN_RMS = 600.0
"""Quietest residual (16-bit RMS) that can be a person talking over a reply."""
MIN_SHARE = 0.45
"""A residual frame counts only if it keeps this share of the microphone's level: what the
canceller leaves of the echo is far weaker (20 to 40 dB) than a person's voice."""
CONVERGE_S = 0.8
"""How long a fresh canceller is given to learn the echo path at the start of a reply: the
residual is not trusted (gated to silence) until then, so the first syllables of the reply,
not yet cancelled, are not taken for a person talking over it. Someone who says "stop" in
that first moment is heard once the reply is under way."""


class EchoCanceller:
    """Cancels a known reference signal (the reply being played) from microphone blocks."""

    def __init__(self, new_processor: Callable[[], Any], sample_rate: int) -> None:
        self._new_processor = new_processor
        self._processor = new_processor()
        self.sample_rate = sample_rate
        self.frame = int(sample_rate * FRAME_S)
        self._reference = np.zeros(0, dtype=np.int16)
        self._start: float | None = None
        self._position: int | None = None
        self._processed = 0
        """Samples processed since the reply began."""

    def play(self, reference: bytes, started_at: float) -> None:
        """The reply (16-bit mono PCM at :attr:`sample_rate`) began playing at ``started_at``
        (``time.monotonic()`` seconds)."""
        self._reference = np.frombuffer(reference, dtype=np.int16)
        self._start = started_at
        self._position = None
        self._processed = 0
        # A fresh canceller for every reply: it expects one continuous stream, and between
        # replies it is fed nothing.
        self._processor = self._new_processor()

    def stop(self) -> None:
        """Playback ended or was cut: the reference is silence from now on."""
        self._reference = np.zeros(0, dtype=np.int16)
        self._start = self._position = None

    def process(self, block: bytes, captured_until: float) -> bytes:
        """``block`` with the echo of the reference removed; ``captured_until`` is when the
        block's last sample was heard (``time.monotonic()`` seconds)."""
        near = np.frombuffer(block, dtype=np.int16)
        usable = len(near) - len(near) % self.frame
        if usable == 0:
            return block
        far = self._aligned(usable, captured_until - len(near) / self.sample_rate)
        out = [
            self._processor.process(near[i : i + self.frame], far[i : i + self.frame])
            for i in range(0, usable, self.frame)
        ]
        self._processed += usable
        cleaned: bytes = np.concatenate(out).astype(np.int16).tobytes()
        return cleaned + block[usable * 2 :]

    def gate(self, raw: bytes, cleaned: bytes) -> bytes:
        """``cleaned`` with its frames silenced where they are too weak to be a person: what
        is left of the echo, which a voice activity detector would still call speech."""
        out = np.frombuffer(cleaned, dtype=np.int16).copy()
        if self._start is not None and self._processed < CONVERGE_S * self.sample_rate:
            return bytes(len(cleaned))  # still learning the echo path
        near = np.frombuffer(raw, dtype=np.int16).astype(np.float32)
        for i in range(0, len(out) - len(out) % self.frame, self.frame):
            residual = float(np.sqrt(np.mean(out[i : i + self.frame].astype(np.float32) ** 2)))
            heard = float(np.sqrt(np.mean(near[i : i + self.frame] ** 2)))
            if residual < max(MIN_RMS, MIN_SHARE * heard):
                out[i : i + self.frame] = 0
        gated: bytes = out.tobytes()
        return gated

    def _aligned(self, count: int, block_start: float) -> np.ndarray:
        """The reference samples heard in this block: placed by the clock for the first block
        after playback started, then advanced sample by sample (a steady delay the canceller
        can learn, rather than the jitter of reading times)."""
        far = np.zeros(count, dtype=np.int16)
        if self._start is None or not len(self._reference):
            return far
        if self._position is None:
            self._position = round(
                (block_start - self._start + REFERENCE_LEAD_S) * self.sample_rate)
        offset = self._position
        self._position += count
        lo, hi = max(offset, 0), min(offset + count, len(self._reference))
        if hi > lo:
            far[lo - offset : hi - offset] = self._reference[lo:hi]
        return far


def make_echo_canceller(sample_rate: int = 16000) -> EchoCanceller | None:
    """An :class:`EchoCanceller`, or None when ``pywebrtc-audio`` is not available."""
    try:
        from pywebrtc_audio import AudioProcessor
    except ImportError as exc:
        log.info("no echo cancellation (%s): the assistant will not hear you while it speaks",
                 exc)
        return None
    def new_processor() -> Any:
        return AudioProcessor(
            sample_rate=sample_rate, echo_cancellation=True, noise_suppression=False,
            auto_gain_control=False, stream_delay_ms=0,
        )
    return EchoCanceller(new_processor, sample_rate)
