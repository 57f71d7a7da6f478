"""Read WAV files for the recognisers: any rate, channels and sample format -> 16 kHz mono int16.

The RIFF header is parsed here rather than by :mod:`wave`, which (before Python 3.12) refuses
32-bit float and ``WAVE_FORMAT_EXTENSIBLE`` files. Supported: integer PCM of 8, 16, 24 or 32
bits and IEEE float of 32 or 64 bits, in plain or extensible headers, any number of channels
(averaged to mono), any sample rate (resampled with soxr). Long files with silence around the
speech are fine: the recognisers cope with leading and trailing silence, nothing is trimmed.
"""

from __future__ import annotations

import shlex
import struct
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..base.errors import AudioError

TARGET_RATE = 16000
"""Sample rate the recognisers take (hertz)."""
MIN_RATE = 1000
MAX_RATE = 768_000
"""Sample rates read (hertz): beyond them a header is broken, and resampling a few bytes at
1 Hz to 16 kHz would make gigabytes."""

_PCM = 1
_FLOAT = 3
_EXTENSIBLE = 0xFFFE
_STREAMING_SIZES = (0, 0xFFFFFFFF)
"""Data sizes written by tools that stream a WAV to a pipe and never go back to fix them."""


@dataclass(frozen=True)
class WavFormat:
    """What a WAV file's ``fmt`` chunk says."""

    encoding: int
    """1 = integer PCM, 3 = IEEE float (extensible headers are resolved to one of these)."""
    channels: int
    rate: int
    """Samples per second per channel (hertz)."""
    bits: int
    """Bits per sample (8, 16, 24, 32 or 64)."""

    @property
    def frame_bytes(self) -> int:
        """Bytes per frame (one sample of every channel)."""
        return self.channels * self.bits // 8


def read_wav(path: str | Path, rate: int = TARGET_RATE) -> bytes:
    """The audio of WAV file ``path`` as mono 16-bit little-endian PCM at ``rate`` hertz.

    Raises :class:`AudioError` with a one-line message naming the file when it cannot be
    read, is not a WAV file, is truncated, holds no audio or uses an unsupported format.
    """
    path = Path(path)
    return decode_wav(path, _read_bytes(path), rate)


def decode_wav(path: Path, blob: bytes, rate: int = TARGET_RATE) -> bytes:
    """The audio of WAV file ``blob`` (read from ``path``) as :func:`read_wav` returns it."""
    fmt, data = parse_wav(path, blob)
    samples = _to_float(fmt, data, path)
    mono = samples.mean(axis=1) if fmt.channels > 1 else samples[:, 0]
    pcm = to_pcm16(resample(mono, fmt.rate, rate))
    if not pcm:
        raise AudioError(f"{path}: the WAV file holds too little audio ({len(mono)} samples "
                         f"at {fmt.rate} Hz): record at least a second of speech")
    return pcm


def parse_wav(path: Path, blob: bytes) -> tuple[WavFormat, bytes]:
    """(format, raw sample bytes) of the WAV file ``blob`` read from ``path``."""
    if len(blob) < 12 or blob[:4] not in (b"RIFF", b"RIFX", b"RF64") or blob[8:12] != b"WAVE":
        raise AudioError(f"{path}: not a WAV file (RIFF header missing); {_convert_hint(path)}")
    if blob[:4] != b"RIFF":
        kind = "big-endian (RIFX)" if blob[:4] == b"RIFX" else "RF64"
        raise AudioError(f"{path}: {kind} WAV files are not supported; {_convert_hint(path)}")
    fmt: WavFormat | None = None
    for chunk_id, body, declared in _chunks(path, blob):
        if chunk_id == b"fmt ":
            fmt = _parse_fmt(path, body)
        elif chunk_id == b"data":
            if fmt is None:
                raise AudioError(f"{path}: broken WAV file (audio data before the 'fmt' chunk)")
            return fmt, _check_data(path, fmt, body, declared)
    if fmt is None:
        raise AudioError(f"{path}: truncated or broken WAV file (no 'fmt' chunk)")
    raise AudioError(f"{path}: truncated WAV file (no 'data' chunk with audio)")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise AudioError(f"{path}: is a directory, not a WAV file") from None
    except OSError as exc:
        raise AudioError(f"{path}: cannot read file ({exc.strerror})") from None


def _convert_hint(path: Path) -> str:
    target = path.with_suffix(".wav") if path.suffix.lower() != ".wav" else path.with_stem(
        path.stem + "-16k"
    )
    return (f"convert it with: sox {shlex.quote(str(path))} -r {TARGET_RATE} -c 1 "
            f"-e signed-integer -b 16 {shlex.quote(str(target))}")


def _chunks(path: Path, blob: bytes) -> list[tuple[bytes, bytes, int]]:
    """(id, body, declared size) of each RIFF chunk; the body may be shorter than declared."""
    chunks = []
    pos = 12
    while pos + 8 <= len(blob):
        chunk_id = blob[pos : pos + 4]
        (size,) = struct.unpack_from("<I", blob, pos + 4)
        end = len(blob) if chunk_id == b"data" and size == 0 else pos + 8 + size
        body = blob[pos + 8 : end]
        chunks.append((chunk_id, body, size))
        pos += 8 + size + (size & 1)
    return chunks


def _parse_fmt(path: Path, body: bytes) -> WavFormat:
    if len(body) < 16:
        raise AudioError(f"{path}: broken WAV file ('fmt' chunk is {len(body)} bytes, needs 16)")
    encoding, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", body)
    if encoding == _EXTENSIBLE and len(body) >= 26:
        (encoding,) = struct.unpack_from("<H", body, 24)
    if encoding not in (_PCM, _FLOAT):
        raise AudioError(
            f"{path}: unsupported WAV encoding (format tag {encoding}; only PCM and float "
            f"are read); {_convert_hint(path)}"
        )
    valid = {_PCM: (8, 16, 24, 32), _FLOAT: (32, 64)}[encoding]
    if bits not in valid:
        kind = "integer" if encoding == _PCM else "float"
        raise AudioError(f"{path}: unsupported {bits}-bit {kind} samples; {_convert_hint(path)}")
    if channels < 1 or rate < 1:
        raise AudioError(f"{path}: broken WAV header ({channels} channels at {rate} Hz)")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(f"{path}: unsupported sample rate {rate} Hz (read: {MIN_RATE} to "
                         f"{MAX_RATE} Hz); {_convert_hint(path)}")
    return WavFormat(encoding, channels, rate, bits)


def _check_data(path: Path, fmt: WavFormat, body: bytes, declared: int) -> bytes:
    if len(body) < declared and declared not in _STREAMING_SIZES:
        raise AudioError(
            f"{path}: truncated WAV file (header announces {declared} bytes of audio, "
            f"the file holds {len(body)})"
        )
    usable = len(body) - len(body) % fmt.frame_bytes
    if usable == 0:
        raise AudioError(f"{path}: the WAV file holds no audio samples")
    return body[:usable]


def _to_float(fmt: WavFormat, data: bytes, path: Path) -> npt.NDArray[np.float32]:
    """Samples as float32 in [-1, 1], shaped (frames, channels)."""
    if fmt.encoding == _FLOAT:
        dtype = "<f4" if fmt.bits == 32 else "<f8"
        samples = np.frombuffer(data, dtype=dtype).astype(np.float32)
        samples = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)
    elif fmt.bits == 8:
        samples = (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif fmt.bits == 24:
        raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3)
        ints = (raw[:, 0].astype(np.int32) | (raw[:, 1].astype(np.int32) << 8)
                | (raw[:, 2].astype(np.int8).astype(np.int32) << 16))
        samples = ints.astype(np.float32) / float(1 << 23)
    else:
        dtype = "<i2" if fmt.bits == 16 else "<i4"
        scale = float(1 << (fmt.bits - 1))
        samples = np.frombuffer(data, dtype=dtype).astype(np.float32) / scale
    return samples.reshape(-1, fmt.channels)


def resample(samples: npt.NDArray[np.float32], rate: int, target: int) -> npt.NDArray[np.float32]:
    """Mono float samples from ``rate`` to ``target`` hertz (soxr, high quality)."""
    if rate == target:
        return samples
    import soxr

    result: npt.NDArray[np.float32] = soxr.resample(samples, rate, target).astype(np.float32)
    return result


def to_pcm16(samples: npt.NDArray[np.float32]) -> bytes:
    """Float samples in [-1, 1] as 16-bit little-endian PCM (clipped, rounded)."""
    scaled = np.clip(np.rint(samples * 32768.0), -32768, 32767).astype("<i2")
    return bytes(scaled.tobytes())


def write_wav(path: str | Path, pcm: bytes, rate: int = TARGET_RATE) -> Path:
    """Write mono 16-bit PCM ``pcm`` sampled at ``rate`` hertz to WAV file ``path``."""
    path = Path(path)
    with path.open("wb") as handle, wave.open(handle, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm)
    return path


def duration_s(pcm: bytes, rate: int = TARGET_RATE) -> float:
    """Length of mono 16-bit PCM ``pcm`` at ``rate`` hertz (seconds)."""
    return len(pcm) / 2 / rate


NOISE_FLOOR = 8.0
"""Default standard deviation of :class:`NoiseFloor` (16-bit steps; 8 is about -72 dBFS)."""


class NoiseFloor:
    """Deterministic low-level Gaussian noise, as a microphone has: recognisers misbehave on
    digital silence (exact zeros, as in synthesised speech), and Vosk's own random dither
    then makes results vary from run to run. The same audio always gets the same noise."""

    def __init__(self, level: float = NOISE_FLOOR) -> None:
        """``level``: standard deviation in 16-bit steps; 0 adds nothing."""
        self.level = level
        self._rng = np.random.default_rng(0)

    def reset(self) -> None:
        """Start the noise sequence again (at the start of each utterance)."""
        self._rng = np.random.default_rng(0)

    def add(self, pcm: bytes) -> bytes:
        """``pcm`` (16-bit mono) with the next stretch of noise added."""
        if self.level <= 0 or not pcm:
            return pcm
        samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.int32)
        noise = np.rint(self._rng.normal(0.0, self.level, samples.size)).astype(np.int32)
        return bytes(np.clip(samples + noise, -32768, 32767).astype("<i2").tobytes())
