"""Audio devices: the microphone (16 kHz mono int16 blocks) and the speaker (:class:`Player`).

sounddevice (PortAudio) and soxr are imported lazily, so text-only commands start fast and a
missing PortAudio library is reported by name. Devices are chosen by index or by (part of) their
name (:func:`find_device`); :func:`list_devices` / :func:`format_devices` serve the ``devices``
command.

The :class:`Microphone` never dies of a bad moment: input overflows are counted and logged, and a
lost device (stream error, stopped callback, or no data for ``stall_s`` seconds) is reopened in
the background with backoff. The :class:`Player` feeds PortAudio from a callback, so that
:meth:`Player.stop` (barge-in, "stop") cuts speech off at once from any thread.

PortAudio enumerates devices when it is initialised (at ``import sounddevice``); after a device
is unplugged and plugged back, the microphone re-initialises PortAudio when none of this
module's other streams is open.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..base.config import AudioSettings
from ..base.errors import AudioError
from .wavio import resample, to_pcm16

log = logging.getLogger(__name__)

Kind = Literal["input", "output"]


@dataclass(frozen=True)
class Audio:
    """A stretch of mono 16-bit little-endian PCM."""

    pcm: bytes
    """Samples, int16 little-endian, one channel."""
    sample_rate: int
    """Samples per second (hertz)."""

    @property
    def frames(self) -> int:
        """Number of samples."""
        return len(self.pcm) // 2

    @property
    def duration_s(self) -> float:
        """Length (seconds)."""
        return self.frames / self.sample_rate if self.sample_rate else 0.0

    def samples(self) -> np.ndarray[Any, np.dtype[np.int16]]:
        """The samples as an int16 array (a read-only view of :attr:`pcm`)."""
        return np.frombuffer(self.pcm, dtype="<i2")

    def resampled(self, sample_rate: int) -> Audio:
        """This audio at another sample rate (hertz)."""
        if sample_rate == self.sample_rate or not self.pcm:
            return Audio(self.pcm, sample_rate)
        floats = self.samples().astype(np.float32) / 32768.0
        return Audio(to_pcm16(resample(floats, self.sample_rate, sample_rate)), sample_rate)


# -- libraries, loaded lazily ----------------------------------------------------------------


def _sd() -> Any:
    """The sounddevice module; :class:`AudioError` naming the package when PortAudio is missing."""
    try:
        import sounddevice
    except OSError as exc:  # raised when libportaudio cannot be loaded
        raise AudioError(
            f"audio is unavailable: {_one_line(exc)} (install PortAudio: "
            "sudo apt install libportaudio2)"
        ) from None
    return sounddevice


def _soxr() -> Any:
    import soxr

    return soxr


_streams_lock = threading.Lock()
_open_streams = 0
"""Streams this module has open; PortAudio may be re-initialised only when this is zero."""


def _opened(stream: Any) -> Any:
    global _open_streams
    with _streams_lock:
        _open_streams += 1
    return stream


def _close_stream(stream: Any, *, abort: bool = True) -> None:
    """Stop (``abort``: at once, else after the queued audio) and close; never raises."""
    global _open_streams
    try:
        if abort:
            stream.abort(ignore_errors=True)
        else:
            stream.stop(ignore_errors=True)
        stream.close(ignore_errors=True)
    except Exception as exc:  # a dead device may fail to close; nothing else to do
        log.debug("closing audio stream: %s", exc)
    finally:
        with _streams_lock:
            _open_streams -= 1


def reinitialise_portaudio() -> bool:
    """Make PortAudio enumerate devices again; False (and nothing done) while streams are open."""
    with _streams_lock:
        if _open_streams > 0:
            return False
        sd = _sd()
        sd._terminate()
        sd._initialize()
    log.info("audio devices enumerated again")
    return True


# -- devices ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Device:
    """One PortAudio device."""

    index: int
    name: str
    hostapi: str
    inputs: int
    """Most input channels it offers (0 for a speaker)."""
    outputs: int
    """Most output channels it offers (0 for a microphone)."""
    default_rate: float
    """Its default sample rate (hertz)."""
    default_input: bool = False
    default_output: bool = False

    def channels(self, kind: Kind) -> int:
        return self.inputs if kind == "input" else self.outputs

    def label(self) -> str:
        return f"{self.index} '{self.name}'"


def list_devices() -> list[Device]:
    """Every input and output device, with the system defaults marked."""
    sd = _sd()
    hostapis = [api["name"] for api in sd.query_hostapis()]
    default_in, default_out = _default_indices(sd)
    return [
        Device(
            index=i, name=str(info["name"]), hostapi=hostapis[info["hostapi"]],
            inputs=int(info["max_input_channels"]), outputs=int(info["max_output_channels"]),
            default_rate=float(info["default_samplerate"]),
            default_input=i == default_in, default_output=i == default_out,
        )
        for i, info in enumerate(sd.query_devices())
    ]


def _default_indices(sd: Any) -> tuple[int, int]:
    try:
        default_in, default_out = sd.default.device
    except Exception:
        return -1, -1
    return int(default_in if default_in is not None else -1), int(
        default_out if default_out is not None else -1
    )


def format_devices(devices: list[Device]) -> str:
    """A table for the ``devices`` command: ``*`` marks a default, channels in/out, rate (Hz)."""
    if not devices:
        return "no audio devices found"
    lines = []
    for dev in devices:
        marks = [m for m, on in (("default input", dev.default_input),
                                 ("default output", dev.default_output)) if on]
        star = "*" if marks else " "
        extra = f"  [{', '.join(marks)}]" if marks else ""
        lines.append(
            f"{star}{dev.index:3d}  {dev.name} ({dev.hostapi})  in {dev.inputs}, out "
            f"{dev.outputs}, {dev.default_rate:.0f} Hz{extra}"
        )
    return "\n".join(lines)


def find_device(spec: str | int | None, kind: Kind) -> Device:
    """The ``kind`` device named by ``spec``: an index, (part of) a name, or None = default.

    A name matches exactly, then as a prefix, then as a substring (case-insensitive);
    raise :class:`AudioError` listing the devices when nothing (or more than one) matches.
    """
    devices = [d for d in list_devices() if d.channels(kind) > 0]
    if not devices:
        raise AudioError(_nothing_found(kind))
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return _default_device(devices, kind)
    if isinstance(spec, int) or spec.strip().isdigit():
        return _device_by_index(devices, int(spec), kind)
    return _device_by_name(devices, spec.strip(), kind)


def _nothing_found(kind: Kind) -> str:
    if kind == "input":
        return ("no microphone found (no audio input device); connect one, or type instead: "
                "trust-assistant ask -")
    return "no speaker found (no audio output device); write speech to a file with --out FILE.wav"


def _default_device(devices: list[Device], kind: Kind) -> Device:
    for dev in devices:
        if dev.default_input if kind == "input" else dev.default_output:
            return dev
    return devices[0]


def _device_by_index(devices: list[Device], index: int, kind: Kind) -> Device:
    for dev in devices:
        if dev.index == index:
            return dev
    raise AudioError(f"no audio {kind} device {index}; {kind} devices: {_labels(devices)}")


def _device_by_name(devices: list[Device], name: str, kind: Kind) -> Device:
    wanted = name.lower()
    tests: list[Callable[[str], bool]] = [
        lambda n: n == wanted, lambda n: n.startswith(wanted), lambda n: wanted in n,
    ]
    for test in tests:
        matches = [d for d in devices if test(d.name.lower())]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise AudioError(
                f"audio {kind} device '{name}' is ambiguous: {_labels(matches)}; use its index"
            )
    raise AudioError(
        f"no audio {kind} device matches '{name}'; {kind} devices: {_labels(devices)} "
        "(give an index or part of a name)"
    )


def _labels(devices: list[Device]) -> str:
    return ", ".join(d.label() for d in devices)


def _negotiate(sd: Any, device: Device, kind: Kind, rate: int) -> tuple[int, int]:
    """The (sample rate in hertz, channels) to open ``device`` with: ``rate`` mono if it can."""
    check = sd.check_input_settings if kind == "input" else sd.check_output_settings
    rates = [rate] if rate == round(device.default_rate) else [rate, round(device.default_rate)]
    channel_options = [1] if device.channels(kind) < 2 else [1, 2]
    error = ""
    for channels in channel_options:
        for candidate in rates:
            try:
                check(device=device.index, samplerate=candidate, channels=channels, dtype="int16")
            except Exception as exc:
                error = _one_line(exc)
                log.debug("%s: %d Hz x %d not usable: %s", device.name, candidate, channels, error)
                continue
            return candidate, channels
    tried = " or ".join(f"{r} Hz" for r in rates)
    raise AudioError(f"cannot use audio {kind} device {device.label()} at {tried} ({error}); "
                     "choose another with --device")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# -- microphone ------------------------------------------------------------------------------


class _Blocker:
    """Turns device audio (any rate, 1-2 channels) into exact blocks of mono int16 PCM."""

    def __init__(self, in_rate: int, out_rate: int, channels: int, block_frames: int) -> None:
        self.channels = channels
        self.block_bytes = block_frames * 2
        self._pending = b""
        self._stream = (
            None if in_rate == out_rate
            else _soxr().ResampleStream(in_rate, out_rate, 1, dtype="int16", quality="HQ")
        )

    def push(self, pcm: bytes) -> list[bytes]:
        """Add device audio; return the complete blocks now available."""
        if self.channels > 1 or self._stream is not None:
            samples = np.frombuffer(pcm, dtype="<i2")
            if self.channels > 1:
                samples = samples.reshape(-1, self.channels).mean(axis=1).astype("<i2")
            if self._stream is not None:
                samples = self._stream.resample_chunk(samples)
            pcm = np.asarray(samples, dtype="<i2").tobytes()
        data = self._pending + pcm
        cut = len(data) - len(data) % self.block_bytes
        self._pending = data[cut:]
        return [data[i:i + self.block_bytes] for i in range(0, cut, self.block_bytes)]


class Microphone:
    """Blocks of 16-bit mono PCM at ``sample_rate`` from an input device, read with :meth:`read`.

    ``device`` is an index, (part of) a name, or None for the system default; ``device_rate``
    forces the rate the device is opened at (hertz; normally chosen automatically, resampling
    when the device cannot do ``sample_rate``). A lost device is reopened in the background:
    reads simply time out meanwhile.
    """

    def __init__(
        self,
        device: str | int | None = None,
        *,
        sample_rate: int = 16000,
        block_ms: int = 100,
        device_rate: int | None = None,
        stall_s: float = 3.0,
        max_backoff_s: float = 5.0,
        max_queued_s: float = 10.0,
    ) -> None:
        if block_ms <= 0 or sample_rate <= 0:
            raise AudioError("microphone block length and sample rate must be positive")
        self.sample_rate = sample_rate
        """Rate of the blocks :meth:`read` returns (hertz)."""
        self.block_ms = block_ms
        """Length of one block (milliseconds)."""
        self.stall_s = stall_s
        """No data for this long means the device is lost (seconds)."""
        self.max_backoff_s = max_backoff_s
        """Longest wait between two attempts to reopen a lost device (seconds)."""
        self._spec = device
        self._forced_rate = device_rate
        self._queue: queue.Queue[bytes | None] = queue.Queue(
            maxsize=max(1, round(max_queued_s * 1000 / block_ms))
        )
        self._lock = threading.Lock()
        self._stream: Any = None
        self._blocker: _Blocker | None = None
        self._generation = 0
        self._last_data = 0.0
        self._lost = threading.Event()
        self._closing = threading.Event()
        self._watchdog: threading.Thread | None = None
        self.device: Device | None = None
        """The device in use (None before :meth:`start`)."""
        self.device_rate = 0
        """The rate the device is actually opened at (hertz)."""
        self.overflows = 0
        """Input overflows PortAudio reported (audio the device dropped)."""
        self.dropped = 0
        """Blocks thrown away because nobody read them in time (oldest first)."""
        self.reopens = 0
        """Times the device was lost and opened again."""

    @classmethod
    def from_settings(cls, settings: AudioSettings, sample_rate: int = 16000) -> Microphone:
        """A microphone as the ``audio`` settings describe (device, block length)."""
        return cls(settings.input_device, sample_rate=sample_rate, block_ms=settings.block_ms)

    @property
    def block_frames(self) -> int:
        """Samples per block."""
        return self.sample_rate * self.block_ms // 1000

    @property
    def block_bytes(self) -> int:
        return self.block_frames * 2

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Microphone:
        """Open the device and start listening; :class:`AudioError` if it cannot be opened."""
        if self._watchdog is not None:
            return self
        self._closing.clear()
        self.flush()  # a previous close() leaves a wake-up marker behind
        self._open()
        self._watchdog = threading.Thread(target=self._watch, name="microphone", daemon=True)
        self._watchdog.start()
        return self

    def close(self) -> None:
        """Stop listening: end the background thread, close the stream, wake any reader."""
        self._closing.set()
        if self._watchdog is not None:
            self._watchdog.join(timeout=10)
            self._watchdog = None
        self._close_current()
        self._wake_readers()

    def __enter__(self) -> Microphone:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------------------

    def read(self, timeout: float | None = None) -> bytes | None:
        """The next block (``block_bytes`` long), or None after ``timeout`` seconds or close."""
        if self._closing.is_set() and self._queue.empty():
            return None
        try:
            block = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        if block is None:
            self._wake_readers()
        return block

    def __iter__(self) -> Iterator[bytes]:
        """Blocks until :meth:`close`; waits quietly while a lost device is being reopened."""
        while not self._closing.is_set():
            block = self.read(timeout=0.5)
            if block is not None:
                yield block

    def flush(self) -> int:
        """Drop the blocks waiting to be read (e.g. the assistant's own voice); return how many."""
        count = 0
        while True:
            try:
                block = self._queue.get_nowait()
            except queue.Empty:
                return count
            if block is None:
                self._wake_readers()
                return count
            count += 1

    def _wake_readers(self) -> None:
        if self._closing.is_set():
            self._put(None)

    # -- the stream --------------------------------------------------------------------------

    def _open(self) -> None:
        """Find the device and start a stream on it; :class:`AudioError` when that fails."""
        sd = _sd()
        device = find_device(self._spec, "input")
        if self._forced_rate:
            rate, channels = self._forced_rate, 1
        else:
            rate, channels = _negotiate(sd, device, "input", self.sample_rate)
        stream = self._new_stream(sd, device, rate, channels)
        try:
            stream.start()
        except Exception as exc:
            self._close_current()
            raise AudioError(
                f"cannot start microphone {device.label()}: {_one_line(exc)}"
            ) from None
        self.device, self.device_rate = device, rate
        log.info("microphone: %s at %d Hz x %d", device.label(), rate, channels)

    def _new_stream(self, sd: Any, device: Device, rate: int, channels: int) -> Any:
        """Open (not start) a stream whose callbacks carry a new generation number."""
        with self._lock:
            self._generation += 1
            generation = self._generation
        try:
            stream = _opened(sd.RawInputStream(
                device=device.index, samplerate=rate, channels=channels, dtype="int16",
                blocksize=rate * self.block_ms // 1000, latency="low",
                callback=functools.partial(self._on_audio, generation),
                finished_callback=functools.partial(self._on_finished, generation),
            ))
        except Exception as exc:
            raise AudioError(f"cannot open microphone {device.label()}: {_one_line(exc)}") from None
        with self._lock:
            self._stream = stream
            self._blocker = _Blocker(rate, self.sample_rate, channels, self.block_frames)
            self._last_data = time.monotonic()
            self._lost.clear()
        return stream

    def _close_current(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
            self._generation += 1  # callbacks of the old stream are ignored from now on
        if stream is not None:
            _close_stream(stream)

    def _on_audio(self, generation: int, data: Any, frames: int, when: Any, status: Any) -> None:
        """PortAudio's callback (its own thread): count problems, cut blocks, queue them."""
        with self._lock:
            if generation != self._generation or self._blocker is None:
                return
            self._last_data = time.monotonic()
            blocks = self._blocker.push(bytes(data))
        if status and status.input_overflow:
            self._count_overflow()
        for block in blocks:
            self._put(block)

    def _on_finished(self, generation: int) -> None:
        if generation == self._generation and not self._closing.is_set():
            self._lost.set()

    def _count_overflow(self) -> None:
        self.overflows += 1
        if self.overflows in (1, 10, 100) or self.overflows % 1000 == 0:
            log.warning("microphone input overflow (%d so far): audio was dropped", self.overflows)

    def _put(self, block: bytes | None) -> None:
        while True:
            try:
                self._queue.put_nowait(block)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    # -- recovery ----------------------------------------------------------------------------

    def _watch(self) -> None:
        """Background thread: notice a lost device and reopen it, until :meth:`close`."""
        while not self._closing.wait(0.1):
            reason = self._loss_reason()
            if reason:
                log.warning("microphone lost (%s); reopening it", reason)
                self._close_current()
                self._reopen()

    def _loss_reason(self) -> str | None:
        if self._lost.is_set():
            return "the stream stopped"
        silent = time.monotonic() - self._last_data
        if self._stream is not None and silent > self.stall_s:
            return f"no audio for {silent:.1f} s"
        return None

    def _reopen(self) -> None:
        started, attempt, delay = time.monotonic(), 0, 0.25
        while not self._closing.is_set():
            attempt += 1
            try:
                self._open()
            except AudioError as exc:
                log.info("microphone reopen attempt %d failed: %s", attempt, exc.format_message())
                if attempt % 3 == 0:
                    reinitialise_portaudio()
                if self._closing.wait(delay):
                    return
                delay = min(delay * 2, self.max_backoff_s)
                continue
            self.reopens += 1
            log.warning("microphone back after %.1f s (%d attempts)",
                        time.monotonic() - started, attempt)
            return


# -- speaker ---------------------------------------------------------------------------------

BACKGROUND_NICE = 10
"""How much lower the CPU priority of speech being made while speech plays is (nice levels)."""
STALL_S = 10.0
"""A device that asks for no audio for this long while playing is taken to be lost (seconds)."""
PRODUCER_JOIN_S = 5.0
"""How long a stopped playback waits for the sentence being made to be done (seconds)."""


class _Feeder:
    """PortAudio output callback: hands out the audio added so far block by block; stops the
    stream once :meth:`close` was called and everything is played. When it runs out before
    then (the next sentence is still being synthesised) it plays silence, and that silence is
    part of what was played: ``on_queued`` gets every piece in the order it is played."""

    def __init__(self, rate: int, channels: int, on_start: Callable[[], None] | None,
                 on_queued: Callable[[Audio], None] | None) -> None:
        self.rate, self.channels = rate, channels
        self.data = bytearray()
        self.position = 0
        """Bytes handed to the device so far."""
        self.closed = False
        self.cancelled = False
        """Playing has ended (played, stopped or failed): nothing more is wanted."""
        self.called_at = time.monotonic()
        """When the device last asked for audio (``time.monotonic()``)."""
        self._lock = threading.Lock()
        self._on_start = on_start
        self._on_queued = on_queued
        self._started = False

    @property
    def done(self) -> bool:
        return self.closed and self.position >= len(self.data)

    def add(self, audio: Audio) -> None:
        """Queue ``audio`` (mono, at the device's rate) after what is queued."""
        with self._lock:
            self.data += _interleave(audio, self.channels)
            if self._on_queued is not None:
                self._on_queued(audio)

    def close(self, tail_s: float) -> None:
        """Nothing more will be added; ``tail_s`` of silence ends it (closing a stream drops
        what the device still buffers)."""
        with self._lock:
            self.data += bytes(round(tail_s * self.rate) * 2 * self.channels)
            self.closed = True

    def __call__(self, out: Any, frames: int, when: Any, status: Any) -> None:
        self.called_at = time.monotonic()
        if not self._started:
            self._started = True
            if self._on_start is not None:
                self._on_start()
        size = len(out)
        with self._lock:
            chunk = self.data[self.position:self.position + size]
            out[:len(chunk)] = chunk
            self.position += len(chunk)
            if len(chunk) == size:
                return
            out[len(chunk):] = bytes(size - len(chunk))
            if self.closed:
                raise _sd().CallbackStop
            gap = size - len(chunk)
            self.data += bytes(gap)
            self.position += gap
            if self._on_queued is not None:
                self._on_queued(Audio(bytes(gap // self.channels), self.rate))


class Player:
    """Plays :class:`Audio` on an output device; :meth:`stop` cuts it off at once.

    PortAudio pulls the audio block by block from a callback (block size of the device's
    choosing), so stopping only needs to abort the stream, which drops what is queued.

    ``device`` is an index, (part of) a name, or None for the system default. One utterance
    plays at a time; :meth:`play` blocks until it ends and says whether it played to the end.
    """

    def __init__(self, device: str | int | None = None, *, latency_s: float = 0.2) -> None:
        self.device_spec = device
        self.latency_s = latency_s
        """Audio buffered ahead of the device (seconds): guards against underruns; stopping
        drops it, so it does not delay :meth:`stop`."""
        self._play_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._wake: threading.Event | None = None
        self._stopped = False

    @classmethod
    def from_settings(cls, settings: AudioSettings) -> Player:
        return cls(settings.output_device)

    @property
    def playing(self) -> bool:
        return self._wake is not None

    def stop(self) -> None:
        """Interrupt the utterance being played (from any thread); no-op when silent."""
        with self._state_lock:
            if self._wake is not None:
                self._stopped = True
                self._wake.set()

    def play(self, audio: Audio, on_start: Callable[[], None] | None = None) -> bool:
        """Play ``audio``; True if it played to the end, False if :meth:`stop` cut it short.

        ``on_start`` is called (on PortAudio's thread: keep it short) when the device asks for
        the first block. Raise :class:`AudioError` when no output device can be opened or the
        device is lost while playing.
        """
        return self.play_stream([audio], on_start=on_start)

    def play_stream(self, chunks: Iterable[Audio], on_start: Callable[[], None] | None = None,
                    on_queued: Callable[[Audio], None] | None = None) -> bool:
        """Play ``chunks`` one after the other, as they come: the device starts with the first
        while the next is being made (on a thread of its own). As :meth:`play`; ``on_queued``
        gets each piece of what is played, in order, at the device's rate, silence played while
        waiting for a chunk included (the echo canceller's reference). An error raised while
        making a chunk ends the speech and is raised once what was ready has played.
        """
        pieces = iter(chunks)
        first = next((c for c in pieces if c.pcm), None)
        if first is None:
            return True
        with self._play_lock:
            wake = threading.Event()
            with self._state_lock:
                self._wake, self._stopped = wake, False
            try:
                return self._play(first, pieces, wake, on_start, on_queued)
            finally:
                with self._state_lock:
                    self._wake = None

    def _play(self, first: Audio, rest: Iterator[Audio], wake: threading.Event,
              on_start: Callable[[], None] | None,
              on_queued: Callable[[Audio], None] | None) -> bool:
        sd = _sd()
        device = find_device(self.device_spec, "output")
        rate, channels = _negotiate(sd, device, "output", first.sample_rate)
        feeder = _Feeder(rate, channels, on_start, on_queued)
        feeder.add(first.resampled(rate))
        try:
            stream = _opened(sd.RawOutputStream(
                device=device.index, samplerate=rate, channels=channels, dtype="int16",
                latency=self.latency_s, callback=feeder,
                prime_output_buffers_using_stream_callback=True,
                finished_callback=wake.set,
            ))
        except Exception as exc:
            raise AudioError(f"cannot play on {device.label()}: {_one_line(exc)}") from None
        failure: list[BaseException] = []
        finished = False
        producer: threading.Thread | None = None
        try:
            tail_s = max(float(stream.latency), self.latency_s) + 0.05
            producer = threading.Thread(target=self._produce, name="speech-chunks", daemon=True,
                                        args=(rest, feeder, rate, tail_s, failure))
            stream.start()
            producer.start()
            while not (finished := wake.wait(0.25)):
                if time.monotonic() - feeder.called_at > STALL_S:
                    break
        except Exception as exc:
            raise AudioError(f"cannot play on {device.label()}: {_one_line(exc)}") from None
        finally:
            _close_stream(stream, abort=not finished or self._stopped)
            feeder.cancelled = True
            if producer is not None and producer.is_alive():
                # stopped while the next sentence is being made: let it finish (it is dropped),
                # so that no voice is left running native code when the process exits (Piper's
                # onnxruntime then aborts the whole process: "terminate called ...")
                producer.join(timeout=PRODUCER_JOIN_S)
        if self._stopped:
            return False
        if not finished or not feeder.done:
            raise AudioError(f"playback on {device.label()} stopped: the device was lost")
        if failure:
            raise failure[0]
        return True

    def _produce(self, rest: Iterator[Audio], feeder: _Feeder, rate: int, tail_s: float,
                 failure: list[BaseException]) -> None:
        """Add the chunks after the first to ``feeder`` as they are made; then close it."""
        lower_priority()
        try:
            for chunk in rest:
                if feeder.cancelled:
                    return
                if chunk.pcm:
                    feeder.add(chunk.resampled(rate))
        except Exception as exc:
            failure.append(exc)
        finally:
            feeder.close(tail_s)


def lower_priority(step: int = BACKGROUND_NICE) -> None:
    """Run the calling thread (and the threads it starts) ``step`` nice levels lower, where the
    system allows it (Linux): making speech while playing it must not starve the playback or
    the microphone, or the sound stutters and the echo canceller loses the reply."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(os.getpriority(os.PRIO_PROCESS, tid) + step, 19))
    except (AttributeError, OSError):
        pass


def _interleave(audio: Audio, channels: int) -> bytes:
    """Mono PCM as ``channels`` identical interleaved channels."""
    if channels == 1:
        return audio.pcm
    return np.repeat(audio.samples(), channels).astype("<i2").tobytes()
