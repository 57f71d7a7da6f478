"""Removing the assistant's own voice from the microphone while it speaks.

A microphone near the speaker hears every reply, after a delay that depends on the sound
system. The delay is measured by finding the reply in what the microphone hears; then a
digital echo path (a loopback, a virtual microphone) is subtracted through a short filter
fitted to it, which leaves a person talking over the reply whole, and an acoustic one (a room)
goes to WebRTC's echo canceller (AEC3, through the ``pywebrtc-audio`` package). So the voice
loop can notice a person talking over a reply (barge-in) without mistaking the reply itself
for a request. Without the package (a platform with no wheel), :func:`make_echo_canceller`
returns None and the loop simply does not listen while it speaks.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from typing import Any

import numpy as np

from .devices import Audio

log = logging.getLogger(__name__)

FRAME_S = 0.01
"""The canceller works on 10 ms frames."""
REFERENCE_LEAD_S = 0.12
"""Until the echo's delay is measured, each microphone block is paired with reference audio
this much further into the reply than the clock suggests (the canceller can only remove echo
that follows its reference)."""
MAX_DELAY_S = 2.5
"""Longest echo delay looked for: output buffers, a PulseAudio loopback or a Bluetooth speaker
can each add hundreds of milliseconds between playing a sample and hearing it."""
SEARCH_WINDOW_S = 0.5
"""How much of the microphone is compared with the reply to find the echo's delay."""
SEARCH_EVERY_S = 0.1
"""How often the delay is looked for until it is found."""
RECHECK_EVERY_S = 2.0
"""How often a found delay is checked again (clocks drift, a loopback adjusts its rate)."""
UPGRADE_EVERY_S = 0.5
"""How often an echo left to WebRTC's canceller is checked for being a digital path after all
(the first window may hold the start of playback, which a stream can stutter through)."""
LOCK_CORRELATION = 0.3
"""Normalised correlation between the microphone and the delayed reply that counts as the echo
(a bare loopback gives nearly 1, a room with reverberation 0.4 to 0.8, unrelated sound < 0.1)."""
DELAY_TOLERANCE_S = 0.004
"""A re-measured delay this close to the one in use leaves the canceller alone."""
CANCELLER_LEAD_S = 0.03
"""WebRTC's canceller is fed the reply this much ahead of the measured delay: in a room the
strongest path found may be a reflection, and the canceller removes only echo that comes after
its reference (it finds the exact offset within its own filter)."""
SETTLE_S = 0.3
"""After the delay is found, the canceller is given this long to learn the echo's strength:
the residual is not trusted (gated to silence) until then."""
MIN_RMS = 600.0
"""Quietest residual (16-bit RMS) that can be a person talking over a reply."""
MIN_SHARE = 0.45
"""A residual frame counts only if it keeps this share of the microphone's level: what the
canceller leaves of the echo is far weaker (20 to 40 dB) than a person's voice."""
LINEAR_ERLE_DB = 25.0
"""When the echo is the reply passed through a digital path (a loopback, a virtual microphone:
a delay, a gain, resampling filters), a short filter fitted to it removes at least this much
(decibels): then the echo is subtracted and a person talking over the reply is heard whole,
rather than through WebRTC's suppressor, which also damps them."""
PATH_TAPS = 64
"""Length of that filter (samples): resamplers' filters are shorter than this."""
QUIET_RMS = 100.0
"""A microphone window quieter than this (16-bit RMS) carries no echo worth measuring."""


class EchoCanceller:
    """Cancels a known reference signal (the reply being played) from microphone blocks.

    The reply's echo arrives after a delay nobody can know in advance (it depends on the sound
    system), so the delay is measured: the microphone is compared with the reply by
    cross-correlation until the reply is found in it, and from then on the canceller is fed the
    reply sample-aligned with its echo. Until then nothing heard counts as a person talking
    over the reply. If no echo shows up within :data:`MAX_DELAY_S` of reply (headphones), the
    residual is trusted as it is.
    """

    def __init__(self, new_processor: Callable[[], Any], sample_rate: int) -> None:
        self._new_processor = new_processor
        self._processor = new_processor()
        self.sample_rate = sample_rate
        self.frame = int(sample_rate * FRAME_S)
        self._reference = np.zeros(0, dtype=np.int16)
        self._start: float | None = None
        self._position: int | None = None
        self._heard = np.zeros(0, dtype=np.float32)
        """The latest microphone samples (for measuring the delay)."""
        self._count = 0
        """Microphone samples processed since the reply began."""
        self.delay: int | None = None
        """The echo's delay in samples (microphone samples since the reply began minus the
        reply samples they echo), once measured."""
        self.path: np.ndarray | None = None
        """The echo path as a short filter (:data:`PATH_TAPS` taps centred on the delay) when
        the echo is the reply passed through a linear digital path, else None."""
        self._fitted = False
        """Whether enough of the reply was heard to tell a copy from an acoustic echo."""
        self._locked_at = 0
        self._searched_at = 0

    @property
    def delay_s(self) -> float | None:
        """The measured echo delay in seconds, or None while unknown."""
        return None if self.delay is None else self.delay / self.sample_rate

    def play(self, reference: bytes, started_at: float) -> None:
        """The reply (16-bit mono PCM at :attr:`sample_rate`) began playing at ``started_at``
        (``time.monotonic()`` seconds)."""
        self._reference = np.frombuffer(reference, dtype=np.int16)
        self._start = started_at
        self._position = None
        self._count = self._locked_at = self._searched_at = 0
        self._heard = np.zeros(0, dtype=np.float32)
        self.delay = None
        self.path = None
        self._fitted = False
        # A fresh canceller for every reply: it expects one continuous stream, and between
        # replies it is fed nothing.
        self._processor = self._new_processor()

    def extend(self, reference: bytes) -> None:
        """More of the reply (16-bit mono PCM at :attr:`sample_rate`), played right after what
        the reference holds (a reply is played sentence by sentence, as it is synthesised)."""
        if self._start is None or not reference:
            return
        more = np.frombuffer(reference, dtype=np.int16)
        self._reference = np.concatenate([self._reference, more])

    def stop(self) -> None:
        """Playback ended or was cut: the reference is silence from now on."""
        self._reference = np.zeros(0, dtype=np.int16)
        self._start = self._position = None

    def state(self) -> str:
        """What the canceller knows, for the log."""
        heard = self._count / self.sample_rate
        if self.delay is None:
            return f"{heard:.1f} s heard, echo not found"
        how = "subtracted" if self.path is not None else "cancelled"
        return f"{heard:.1f} s heard, echo {self.delay * 1000 / self.sample_rate:.0f} ms ({how})"

    def cut(self, in_flight_s: float) -> None:
        """Playback was cut short: the reply ends with what was already on its way (about
        ``in_flight_s`` of audio beyond what the microphone has heard the echo of), so the
        canceller does not wait for echo of words that were never played."""
        if self.delay is None or self._start is None:
            return
        end = max(self._count - self.delay + int(in_flight_s * self.sample_rate), 0)
        self._reference = self._reference[:end]

    def echo_pending(self) -> bool:
        """True while the echo of a reply that has finished playing may still be arriving."""
        if self._start is None or not len(self._reference):
            return False
        delay = self.delay if self.delay is not None else 0
        return self._count < len(self._reference) + delay + int(0.15 * self.sample_rate)

    def process(self, block: bytes, captured_until: float) -> bytes:
        """``block`` with the echo of the reference removed; ``captured_until`` is when the
        block's last sample was heard (``time.monotonic()`` seconds)."""
        near = np.frombuffer(block, dtype=np.int16)
        usable = len(near) - len(near) % self.frame
        if usable == 0:
            return block
        start = self._count
        self._remember(near[:usable])
        self._count += usable
        if self._start is not None and len(self._reference):
            self._measure()
            if self.delay is None and self._count >= self._search_span():
                return block  # no echo of the reply reaches the microphone: nothing to remove
        if self.path is not None:
            left = near[:usable] - self._through_path(start, usable)
            subtracted: bytes = np.clip(left, -32768, 32767).astype(np.int16).tobytes()
            return subtracted + block[usable * 2 :]
        far = self._aligned(usable, start, captured_until - len(near) / self.sample_rate)
        out = [
            self._processor.process(near[i : i + self.frame], far[i : i + self.frame])
            for i in range(0, usable, self.frame)
        ]
        cleaned: bytes = np.concatenate(out).astype(np.int16).tobytes()
        return cleaned + block[usable * 2 :]

    def gate(self, raw: bytes, cleaned: bytes) -> bytes:
        """``cleaned`` with its frames silenced where they are too weak to be a person: what
        is left of the echo, which a voice activity detector would still call speech. While
        the echo's delay is still being looked for, everything is silenced."""
        out = np.frombuffer(cleaned, dtype=np.int16).copy()
        if self._start is not None and len(self._reference):
            searching = self.delay is None and self._count < self._search_span()
            settling = (self.delay is not None and self.path is None
                        and self._count - self._locked_at < SETTLE_S * self.sample_rate)
            if searching or settling:
                return bytes(len(cleaned))
        near = np.frombuffer(raw, dtype=np.int16).astype(np.float32)
        for i in range(0, len(out) - len(out) % self.frame, self.frame):
            residual = float(np.sqrt(np.mean(out[i : i + self.frame].astype(np.float32) ** 2)))
            heard = float(np.sqrt(np.mean(near[i : i + self.frame] ** 2)))
            if residual < max(MIN_RMS, MIN_SHARE * heard):
                out[i : i + self.frame] = 0
        gated: bytes = out.tobytes()
        return gated

    def moved(self) -> bool:
        """Whether the echo has just moved: the latest window is the reply at a delay other
        than the one in use (playback stalled, a stream restarted). Then the canceller locks on
        to the new delay and what it let through was the reply, not a person."""
        if self._start is None or not len(self._reference):
            return False
        found = self._find()
        if found is None or (self.delay is not None and abs(found - self.delay) <= (
                DELAY_TOLERANCE_S * self.sample_rate)):
            return False
        self._lock(found, self._fit_path(found), "moved to")
        self._searched_at = self._count
        return True

    # ------------------------------------------------------------------------ the delay

    def _search_span(self) -> int:
        """Microphone samples after which an echo that has not shown up is taken to be absent."""
        return int((MAX_DELAY_S + SEARCH_WINDOW_S) * self.sample_rate)

    def _remember(self, near: np.ndarray) -> None:
        keep = int(SEARCH_WINDOW_S * self.sample_rate)
        self._heard = np.concatenate([self._heard, near.astype(np.float32)])[-keep:]

    def _measure(self) -> None:
        """Look for the reply in the latest microphone window; lock on to its delay."""
        if self.delay is None or not self._fitted:
            every = SEARCH_EVERY_S
        else:
            every = RECHECK_EVERY_S if self.path is not None else UPGRADE_EVERY_S
        if self._searched_at and self._count - self._searched_at < every * self.sample_rate:
            return
        if len(self._heard) < int(SEARCH_WINDOW_S * self.sample_rate):
            return
        self._searched_at = self._count
        found = self._find()
        if found is None:
            return
        path = self._fit_path(found)
        if self.delay is not None and abs(found - self.delay) <= DELAY_TOLERANCE_S * (
                self.sample_rate):
            if path is not None and self.path is not None:
                self.path = path  # the volume changed
            if path is None or self.path is not None:
                # the same echo; a window that is no copy of the reply while it was (a person
                # talking over it) does not end the subtraction
                return
        self._lock(found, path, "delay")

    def _lock(self, delay: int, path: np.ndarray | None, what: str) -> None:
        """Cancel the echo at ``delay`` from now on: through ``path``, or a fresh WebRTC
        canceller that has :data:`SETTLE_S` to learn it."""
        log.debug("echo %s %.0f ms (%s)", what, delay * 1000 / self.sample_rate,
                  "subtracted" if path is not None else "cancelled")
        self.delay, self.path = delay, path
        self._locked_at = self._count
        self._processor = self._new_processor()

    def _find(self) -> int | None:
        """The delay at which the reply explains the latest window, if it does."""
        return find_delay(self._heard, self._reference, end_at=self._count,
                          max_delay=int(MAX_DELAY_S * self.sample_rate))

    def _fit_path(self, delay: int) -> np.ndarray | None:
        """The filter that turns the reply, delayed by ``delay`` samples, into the latest
        window, if subtracting its output removes :data:`LINEAR_ERLE_DB`; else None (an
        acoustic echo, or a person talking)."""
        size = len(self._heard)
        first = self._count - size - delay - PATH_TAPS // 2
        if first + PATH_TAPS // 2 < -size // 2 or first > len(self._reference) - size // 2:
            return None
        context = stretch(self._reference, first, size + PATH_TAPS - 1)
        taps = np.lib.stride_tricks.sliding_window_view(context, PATH_TAPS)
        near = self._heard.astype(np.float64)
        if float(np.dot(context, context)) <= 0:
            return None
        self._fitted = True
        path, *_ = np.linalg.lstsq(taps, near, rcond=None)
        left = near - taps @ path
        heard, rest = float(np.dot(near, near)), float(np.dot(left, left))
        if rest > 0 and 10 * np.log10(heard / rest) < LINEAR_ERLE_DB:
            return None
        return np.asarray(path)

    def _through_path(self, start: int, count: int) -> np.ndarray:
        """The echo expected in the ``count`` microphone samples from ``start``."""
        assert self.path is not None and self.delay is not None
        context = stretch(self._reference, start - self.delay - PATH_TAPS // 2,
                          count + PATH_TAPS - 1)
        echo: np.ndarray = np.lib.stride_tricks.sliding_window_view(context, PATH_TAPS) @ self.path
        return echo

    def _aligned(self, count: int, start: int, block_start: float) -> np.ndarray:
        """The reply samples whose echo is in this block: by the measured delay once known;
        before that placed by the clock for the first block, then advanced sample by sample."""
        if self._start is None or not len(self._reference):
            return np.zeros(count, dtype=np.int16)
        if self.delay is not None:
            lead = int(CANCELLER_LEAD_S * self.sample_rate)
            offset = start - max(self.delay - lead, 0)
        else:
            if self._position is None:
                self._position = round(
                    (block_start - self._start + REFERENCE_LEAD_S) * self.sample_rate)
            offset = self._position
            self._position += count
        return stretch(self._reference, offset, count).astype(np.int16)


class EchoReference:
    """What the speaker plays, piece by piece (:meth:`Player.play_stream`'s ``on_queued``,
    from any thread), handed to the canceller at its rate by the thread that runs it: each
    piece resampled so that the reference's length always matches the audio played."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._pieces: queue.SimpleQueue[Audio] = queue.SimpleQueue()
        self._played = 0
        """Samples played, at the device's rate."""
        self._rate = 0
        self._given = 0
        """Samples handed to the canceller, at :attr:`sample_rate`."""
        self._queued_s = 0.0

    @property
    def queued_s(self) -> float:
        """Seconds of audio handed to the speaker so far."""
        return self._queued_s

    def put(self, piece: Audio) -> None:
        """Called by the player, in the order the pieces are played."""
        self._queued_s += piece.duration_s
        self._pieces.put(piece)

    def feed(self, echo: EchoCanceller) -> None:
        """Add the pieces played since the last call to ``echo``'s reference."""
        while True:
            try:
                piece = self._pieces.get_nowait()
            except queue.Empty:
                return
            echo.extend(self._convert(piece))

    def _convert(self, piece: Audio) -> bytes:
        self._rate = self._rate or piece.sample_rate
        self._played += piece.frames
        want = round(self._played * self.sample_rate / self._rate) - self._given
        samples = piece.resampled(self.sample_rate).samples()[:want]
        if len(samples) < want:
            samples = np.concatenate([samples, np.zeros(want - len(samples), dtype="<i2")])
        self._given += want
        return samples.astype("<i2").tobytes()


def stretch(signal: np.ndarray, first: int, count: int) -> np.ndarray:
    """``count`` samples of ``signal`` from index ``first`` (float64; zeros outside it)."""
    out = np.zeros(count, dtype=np.float64)
    lo, hi = max(first, 0), min(first + count, len(signal))
    if hi > lo:
        out[lo - first : hi - first] = signal[lo:hi]
    return out


def find_delay(window: np.ndarray, reference: np.ndarray, *, end_at: int,
               max_delay: int) -> int | None:
    """The delay (samples) at which ``reference`` best explains ``window``, the microphone
    samples that end ``end_at`` samples after the reference began; None when no delay up to
    ``max_delay`` explains it well (normalised correlation below :data:`LOCK_CORRELATION`),
    or the window is too quiet to tell."""
    win = np.asarray(window, dtype=np.float64)
    size = len(win)
    win_norm = float(np.sqrt(np.dot(win, win)))
    if size == 0 or win_norm < QUIET_RMS * np.sqrt(size):
        return None
    # the reply from where the window's start would be at the longest delay to its end
    segment = stretch(reference, end_at - size - max_delay, size + max_delay)
    if not segment.any():
        return None
    n = 1 << int(np.ceil(np.log2(len(segment) + size)))
    spectrum = np.fft.rfft(segment, n) * np.conj(np.fft.rfft(win, n))
    corr = np.fft.irfft(spectrum, n)[: max_delay + 1]
    energy = np.concatenate([[0.0], np.cumsum(segment ** 2)])
    seg_norm = np.sqrt(np.maximum(energy[size : size + max_delay + 1] - energy[: max_delay + 1],
                                  1e-9))
    score = corr / (seg_norm * win_norm)
    score[seg_norm < QUIET_RMS * np.sqrt(size) * 0.1] = 0.0
    best = int(np.argmax(score))
    if score[best] < LOCK_CORRELATION:
        return None
    return max_delay - best


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
